import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The last figures of each control loop (sweeper…), for /metrics and operators. */
export class ControlLoops1795700000100 implements MigrationInterface {
  name = 'ControlLoops1795700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE control_loops (
      name text PRIMARY KEY,
      stats jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS control_loops`);
  }
}
