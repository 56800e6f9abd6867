import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rolling upgrades (issue 23): a planned move records the AvalancheGo version it leaves and the one it
 * goes to (a rollback moves back to `from_version`), and a target version whose move rolled back is
 * halted per network until someone resumes it: nothing more moves onto it meanwhile.
 */
export class Rollouts1795700002200 implements MigrationInterface {
  name = 'Rollouts1795700002200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE failovers ADD COLUMN from_version text, ADD COLUMN to_version text`);
    await q.query(`CREATE TABLE rollout_halts (
      network text NOT NULL,
      version text NOT NULL,
      reason text NOT NULL,
      validator_id uuid,
      halted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (network, version)
    )`);
    await q.query(
      `CREATE INDEX failovers_planned_running ON failovers (from_zone)
        WHERE status = 'running' AND kind <> 'failover'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX failovers_planned_running`);
    await q.query(`DROP TABLE rollout_halts`);
    await q.query(`ALTER TABLE failovers DROP COLUMN from_version, DROP COLUMN to_version`);
  }
}
