import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Public API: idempotency keys, webhooks and their deliveries, a commit-ordered event feed, label filter. */
export class PublicApi1795633457654 implements MigrationInterface {
  name = 'PublicApi1795633457654';

  async up(q: QueryRunner): Promise<void> {
    // The writing transaction's id: readers only pass events whose transaction can no longer commit
    // "behind" them (tx_id < snapshot xmin), so a stream cursor never skips a late-committing event.
    await q.query(`ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await q.query(`CREATE INDEX events_feed ON events (tx_id, id)`);
    await q.query(`CREATE INDEX events_project_feed ON events (project_id, tx_id, id)`);
    await q.query(`CREATE INDEX validators_labels ON validators USING gin (labels jsonb_path_ops)`);
    await q.query(`CREATE TABLE idempotency_keys (
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      key text NOT NULL,
      request_hash text NOT NULL,
      method text NOT NULL,
      path text NOT NULL,
      state text NOT NULL CHECK (state IN ('in_flight', 'done')),
      locked_until timestamptz,
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (project_id, key)
    )`);
    await q.query(`CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)`);
    await q.query(`CREATE TABLE webhooks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      url text NOT NULL,
      description text NOT NULL DEFAULT '',
      event_types text[] NOT NULL DEFAULT '{}',
      enabled boolean NOT NULL DEFAULT true,
      secret_sealed bytea NOT NULL,
      secret_prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz
    )`);
    await q.query(
      `CREATE INDEX webhooks_project ON webhooks (project_id) WHERE deleted_at IS NULL`,
    );
    await q.query(`CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      project_id uuid NOT NULL,
      event_id bigint,
      event_type text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_status_code integer,
      last_error text,
      attempt_log jsonb NOT NULL DEFAULT '[]',
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, event_id) WHERE event_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    // Durable position of the webhook fan-out over the event feed (one row per consumer).
    await q.query(`CREATE TABLE event_cursors (
      name text PRIMARY KEY,
      tx_id xid8 NOT NULL,
      event_id bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `INSERT INTO event_cursors (name, tx_id, event_id) VALUES ('webhooks', '0'::xid8, 0)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['event_cursors', 'webhook_deliveries', 'webhooks', 'idempotency_keys']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
    await q.query(`DROP INDEX IF EXISTS validators_labels`);
    await q.query(`DROP INDEX IF EXISTS events_project_feed`);
    await q.query(`DROP INDEX IF EXISTS events_feed`);
    await q.query(`ALTER TABLE events DROP COLUMN IF EXISTS tx_id`);
  }
}
