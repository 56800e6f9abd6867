import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `hosts.stop_confirmed_at`: when a DescribeInstances call that began at that moment showed the
 * instance `Stopped` (or gone without Snowline deleting it), with no lease renewal since. Keys move
 * to a new holder on this, never because a stop or delete call was sent (issue 16, point 3).
 */
export class StopConfirmed1795700000700 implements MigrationInterface {
  name = 'StopConfirmed1795700000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN stop_confirmed_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN stop_confirmed_at`);
  }
}
