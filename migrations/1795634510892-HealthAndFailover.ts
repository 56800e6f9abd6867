import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Health verdicts on hosts, zones, incidents, failovers, standby hosts. */
export class HealthAndFailover1795634510892 implements MigrationInterface {
  name = 'HealthAndFailover1795634510892';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts
      ADD COLUMN network text,
      ADD COLUMN health text NOT NULL DEFAULT 'unknown' CHECK (health IN ('healthy','suspect','unhealthy','unknown')),
      ADD COLUMN health_reason text,
      ADD COLUMN health_since timestamptz,
      ADD COLUMN cloud_health text,
      ADD COLUMN cloud_observed_at timestamptz`);
    await q.query(
      `CREATE INDEX hosts_standby ON hosts (zone, network) WHERE role = 'standby' AND deleted_at IS NULL`,
    );
    await q.query(`CREATE TABLE zones (
      id text PRIMARY KEY,
      status text NOT NULL DEFAULT 'healthy' CHECK (status IN ('healthy','impaired','dark')),
      placement_allowed boolean NOT NULL DEFAULT true,
      reason text,
      status_since timestamptz NOT NULL DEFAULT now(),
      hosts integer NOT NULL DEFAULT 0,
      unhealthy integer NOT NULL DEFAULT 0,
      standbys integer NOT NULL DEFAULT 0,
      healthy_sweeps integer NOT NULL DEFAULT 0,
      stock jsonb NOT NULL DEFAULT '{}',
      last_observed_at timestamptz
    )`);
    await q.query(`CREATE TABLE incidents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      zone text,
      kind text NOT NULL CHECK (kind IN ('zone-impaired','zone-dark','control-plane-suspect')),
      severity text NOT NULL CHECK (severity IN ('major','critical')),
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
      summary text NOT NULL,
      affected_validators uuid[] NOT NULL DEFAULT '{}',
      opened_at timestamptz NOT NULL DEFAULT now(),
      closed_at timestamptz
    )`);
    await q.query(
      `CREATE UNIQUE INDEX incidents_one_open ON incidents (kind, coalesce(zone, '')) WHERE status = 'open'`,
    );
    await q.query(`CREATE TABLE failovers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      validator_id uuid NOT NULL REFERENCES validators(id),
      project_id uuid NOT NULL,
      from_host_id uuid,
      to_host_id uuid,
      from_zone text,
      to_zone text,
      generation integer NOT NULL,
      reason text NOT NULL,
      method text NOT NULL CHECK (method IN ('standby','launch')),
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running','done','failed')),
      started_at timestamptz NOT NULL DEFAULT now(),
      detected_at timestamptz,
      finished_at timestamptz
    )`);
    await q.query(`CREATE INDEX failovers_validator ON failovers (validator_id, started_at DESC)`);
    await q.query(
      `CREATE UNIQUE INDEX failovers_one_running ON failovers (validator_id) WHERE status = 'running'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS failovers`);
    await q.query(`DROP TABLE IF EXISTS incidents`);
    await q.query(`DROP TABLE IF EXISTS zones`);
    await q.query(`DROP INDEX IF EXISTS hosts_standby`);
    await q.query(`ALTER TABLE hosts DROP COLUMN network, DROP COLUMN health, DROP COLUMN health_reason,
      DROP COLUMN health_since, DROP COLUMN cloud_health, DROP COLUMN cloud_observed_at`);
  }
}
