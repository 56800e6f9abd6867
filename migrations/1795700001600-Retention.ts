import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the worker's retention loop (issue 20, point 6): it deletes events and finished webhook
 * deliveries by age, and deleted hosts by when they were deleted. Events and deliveries are append-only,
 * so their `created_at` follows the heap order and a BRIN index (a few pages, next to nothing per insert)
 * finds the old rows; a host's `deleted_at` is set once, so a partial btree over deleted rows stays
 * off the live hosts' write path.
 */
export class Retention1795700001600 implements MigrationInterface {
  name = 'Retention1795700001600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_created_brin ON events USING brin (created_at)`);
    await q.query(
      `CREATE INDEX webhook_deliveries_created_brin ON webhook_deliveries USING brin (created_at)`,
    );
    await q.query(`CREATE INDEX hosts_deleted ON hosts (deleted_at) WHERE deleted_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX hosts_deleted`);
    await q.query(`DROP INDEX webhook_deliveries_created_brin`);
    await q.query(`DROP INDEX events_created_brin`);
  }
}
