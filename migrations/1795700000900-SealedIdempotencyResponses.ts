import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key responses rest sealed (`response_sealed`, AES-256-GCM under a key derived from the
 * master key) instead of as readable jsonb: a replayed create of an API key or webhook carried its
 * secret in the clear for 24 h (issue 18, point 2). Migrations have no master key, so stored
 * responses are deleted rather than sealed: a retry of one of those requests within its window runs
 * again instead of replaying. Claims still in flight hold no body and are kept.
 */
export class SealedIdempotencyResponses1795700000900 implements MigrationInterface {
  name = 'SealedIdempotencyResponses1795700000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM idempotency_keys WHERE state = 'done' OR response_body IS NOT NULL`);
    await q.query(`ALTER TABLE idempotency_keys DROP COLUMN response_body`);
    await q.query(`ALTER TABLE idempotency_keys ADD COLUMN response_sealed bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Sealed bodies cannot be opened here either: drop the stored responses.
    await q.query(`DELETE FROM idempotency_keys WHERE state = 'done'`);
    await q.query(`ALTER TABLE idempotency_keys DROP COLUMN response_sealed`);
    await q.query(`ALTER TABLE idempotency_keys ADD COLUMN response_body jsonb`);
  }
}
