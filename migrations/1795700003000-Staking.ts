import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The staking view (issue 22). `staking_observations`: what each host's node said of each NodeID in
 * its latest staking report (one row per observer, NodeID and subnet, replaced by every report).
 * `staking_lookups`: which NodeIDs each host looks up next (the worker assigns them).
 * `validator_staking`: the worker's evaluation per validator (what the API, console, CLI and
 * failover order read), and which staking events it raised for which period. Subnet and balance
 * columns are for L1 validators (ACP-77): null on the primary network.
 */
export class Staking1795700003000 implements MigrationInterface {
  name = 'Staking1795700003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staking_observations (
        observer_host_id uuid NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
        node_id text NOT NULL,
        subnet_id text,
        network text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('self', 'peer')),
        registered boolean NOT NULL,
        tx_id text,
        start_time timestamptz,
        end_time timestamptz,
        weight numeric(30, 0),
        uptime_percent double precision CHECK (uptime_percent BETWEEN 0 AND 100),
        connected boolean,
        auto_renew boolean,
        rewarding_stake_percent double precision,
        weighted_average_percent double precision,
        balance numeric(30, 0),
        validation_id text,
        pchain_time timestamptz NOT NULL,
        observed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (NOT registered OR (tx_id IS NOT NULL AND start_time IS NOT NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX staking_observations_key
         ON staking_observations (observer_host_id, node_id, (coalesce(subnet_id, '')))`,
    );
    await q.query(`CREATE INDEX staking_observations_node ON staking_observations (node_id)`);
    await q.query(`
      CREATE TABLE staking_lookups (
        host_id uuid PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        node_ids text[] NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE validator_staking (
        validator_id uuid PRIMARY KEY REFERENCES validators(id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        network text NOT NULL,
        node_id text NOT NULL,
        subnet_id text,
        status text NOT NULL
          CHECK (status IN ('unknown', 'not_registered', 'registered', 'ok', 'at_risk', 'lost')),
        last_status text
          CHECK (last_status IN ('not_registered', 'registered', 'ok', 'at_risk', 'lost')),
        registered boolean,
        tx_id text,
        start_time timestamptz,
        end_time timestamptz,
        weight numeric(30, 0),
        auto_renew boolean,
        balance numeric(30, 0),
        uptime_requirement double precision,
        uptime_percent double precision,
        uptime_source text CHECK (uptime_source IN ('self', 'peer')),
        observers integer NOT NULL DEFAULT 0,
        budget_ms bigint,
        downtime_ms bigint,
        budget_left_ms bigint,
        period_ending boolean NOT NULL DEFAULT false,
        pchain_time timestamptz,
        observed_at timestamptz,
        period_key text,
        raised text[] NOT NULL DEFAULT '{}',
        evaluated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX validator_staking_risk ON validator_staking (project_id, budget_left_ms)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE validator_staking`);
    await q.query(`DROP TABLE staking_lookups`);
    await q.query(`DROP TABLE staking_observations`);
  }
}
