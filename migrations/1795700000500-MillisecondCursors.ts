import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset cursors carry (created_at, id) with the millisecond precision of a JavaScript Date, but the
 * columns held microseconds: a page that ended inside a millisecond made the next page skip every row
 * of that millisecond after it — all of a transaction's rows, which share one `now()`. The paged
 * columns now store milliseconds (existing values are rounded), so a cursor names a row exactly.
 */
export class MillisecondCursors1795700000500 implements MigrationInterface {
  name = 'MillisecondCursors1795700000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE validators ALTER COLUMN created_at TYPE timestamptz(3)`);
    await q.query(`ALTER TABLE webhook_deliveries ALTER COLUMN created_at TYPE timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ALTER COLUMN created_at TYPE timestamptz`);
    await q.query(`ALTER TABLE validators ALTER COLUMN created_at TYPE timestamptz`);
  }
}
