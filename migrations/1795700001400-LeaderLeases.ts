import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leadership of each background loop as a lease row (issue 20, point 5): a session advisory lock
 * outlives a frozen (SIGSTOPped) leader for ever, a lease expires by the database's clock. The
 * holder's session (pid + backend start) is recorded too, so a dead holder's lease is taken at once.
 * `generation` grows with every change of holder: the fencing token writes that matter check.
 */
export class LeaderLeases1795700001400 implements MigrationInterface {
  name = 'LeaderLeases1795700001400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE leader_leases (
      name text PRIMARY KEY,
      holder text NOT NULL,
      generation integer NOT NULL,
      holder_pid integer NOT NULL,
      holder_backend_start timestamptz NOT NULL,
      acquired_at timestamptz NOT NULL,
      renewed_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE leader_leases`);
  }
}
