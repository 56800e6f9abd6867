import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * L1 validators (issue 22 point 6, ACP-77). `validators.subnet_id`: the L1 a validator validates
 * (null: the primary network); it never changes in place. `hosts.subnet_id`: the L1 the host's node
 * tracks (`track-subnets` in its UserData), a validator's or a standby pool's. Staking reports of L1
 * validators carry the validation id, balance and the P-chain's fee price
 * (`staking_observations.fee_price`), with no staking txID (an L1 validator has none: its check is
 * relaxed for L1 rows); `staking_l1_lookups`: which L1 validators each host looks up next;
 * `validator_staking` keeps the balance with the price and days of fee left it was judged at.
 */
export class L1Validators1795700003300 implements MigrationInterface {
  name = 'L1Validators1795700003300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE validators ADD COLUMN subnet_id text`);
    await q.query(`ALTER TABLE hosts ADD COLUMN subnet_id text`);
    await q.query(`ALTER TABLE staking_observations ADD COLUMN fee_price numeric(30, 0)`);
    await q.query(
      `ALTER TABLE staking_observations DROP CONSTRAINT IF EXISTS staking_observations_check`,
    );
    await q.query(
      `ALTER TABLE staking_observations ADD CONSTRAINT staking_observations_registered
         CHECK (NOT registered OR (start_time IS NOT NULL AND (subnet_id IS NOT NULL OR tx_id IS NOT NULL)))`,
    );
    await q.query(`
      CREATE TABLE staking_l1_lookups (
        host_id uuid PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
        lookups jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      ALTER TABLE validator_staking
        ADD COLUMN validation_id text,
        ADD COLUMN fee_price numeric(30, 0),
        ADD COLUMN fee_source text CHECK (fee_source IN ('node', 'minimum')),
        ADD COLUMN fee_days_left double precision,
        ADD COLUMN l1_active boolean,
        ADD COLUMN balance_low boolean`);
    await q.query(
      `CREATE INDEX hosts_standby_pool ON hosts (network, subnet_id, zone)
        WHERE role = 'standby' AND deleted_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX hosts_standby_pool`);
    await q.query(`
      ALTER TABLE validator_staking
        DROP COLUMN validation_id, DROP COLUMN fee_price, DROP COLUMN fee_source,
        DROP COLUMN fee_days_left, DROP COLUMN l1_active, DROP COLUMN balance_low`);
    await q.query(`DROP TABLE staking_l1_lookups`);
    await q.query(`DELETE FROM staking_observations WHERE subnet_id IS NOT NULL`);
    await q.query(
      `ALTER TABLE staking_observations DROP CONSTRAINT staking_observations_registered`,
    );
    await q.query(
      `ALTER TABLE staking_observations ADD CONSTRAINT staking_observations_check
         CHECK (NOT registered OR (tx_id IS NOT NULL AND start_time IS NOT NULL))`,
    );
    await q.query(`ALTER TABLE staking_observations DROP COLUMN fee_price`);
    await q.query(`ALTER TABLE hosts DROP COLUMN subnet_id`);
    await q.query(`ALTER TABLE validators DROP COLUMN subnet_id`);
  }
}
