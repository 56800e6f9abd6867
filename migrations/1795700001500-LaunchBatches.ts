import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Launch batches (issue 20, point 4): validators requested together launch through one
 * RunInstances with Amount per zone and instance type. Every instance of a call gets the same
 * UserData (the batch id and its bootstrap token), so a host row is bound to its instance by the
 * signed instance identity document at register; the batch's instance ids are stored as the cloud
 * listed them, so a ClientToken replay (same ids) binds the same rows.
 */
export class LaunchBatches1795700001500 implements MigrationInterface {
  name = 'LaunchBatches1795700001500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE launch_batches (
      id uuid PRIMARY KEY,
      zone text NOT NULL,
      instance_type text NOT NULL,
      size integer NOT NULL CHECK (size BETWEEN 1 AND 100),
      bootstrap_token_hash text UNIQUE,
      bootstrap_token_sealed bytea,
      bootstrap_expires_at timestamptz,
      instance_ids text[],
      created_at timestamptz NOT NULL DEFAULT now(),
      launched_at timestamptz
    )`);
    await q.query(`ALTER TABLE hosts
      ADD COLUMN batch_id uuid REFERENCES launch_batches(id),
      ADD COLUMN batch_index integer`);
    await q.query(`CREATE INDEX hosts_batch ON hosts (batch_id) WHERE batch_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN batch_index, DROP COLUMN batch_id`);
    await q.query(`DROP TABLE launch_batches`);
  }
}
