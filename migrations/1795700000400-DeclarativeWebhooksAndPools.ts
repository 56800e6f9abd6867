import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * snowline.yaml manages webhooks (by the file's name for them) and, for admins, the standby pool
 * sizes. Webhooks: the name, and which env variable / secret_version the secret was last set from —
 * never the secret (that stays sealed in secret_sealed). Plans keep their webhook and pool actions
 * beside the plan row (NULL: the request did not plan
 * webhooks / pools at all, so apply leaves them alone).
 */
export class DeclarativeWebhooksAndPools1795700000400 implements MigrationInterface {
  name = 'DeclarativeWebhooksAndPools1795700000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhooks
      ADD COLUMN config_name text,
      ADD COLUMN secret_env text,
      ADD COLUMN secret_version integer`);
    await q.query(`CREATE UNIQUE INDEX webhooks_config_name ON webhooks (project_id, config_name)
      WHERE config_name IS NOT NULL AND deleted_at IS NULL`);
    await q.query(`CREATE TABLE standby_pool_sizes (
      network text NOT NULL,
      zone text NOT NULL,
      size integer NOT NULL CHECK (size >= 0 AND size <= 100),
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (network, zone)
    )`);
    await q.query(`CREATE TABLE plan_config_actions (
      plan_id uuid PRIMARY KEY REFERENCES plans(id) ON DELETE CASCADE,
      webhook_actions jsonb,
      pool_actions jsonb,
      unmanaged_webhooks jsonb NOT NULL DEFAULT '[]'
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS plan_config_actions`);
    await q.query(`DROP TABLE IF EXISTS standby_pool_sizes`);
    await q.query(`DROP INDEX IF EXISTS webhooks_config_name`);
    await q.query(`ALTER TABLE webhooks
      DROP COLUMN IF EXISTS config_name,
      DROP COLUMN IF EXISTS secret_env,
      DROP COLUMN IF EXISTS secret_version`);
  }
}
