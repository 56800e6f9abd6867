import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every move has a kind, an attempt number and a deadline, and ends: `replanned` onto another
 * target, `failed` after the last attempt, `cancelled` when the validator retired or was superseded.
 * Rows leaked by earlier versions (a `running` move whose validator no longer moves, which held a
 * concurrency slot for good) are closed here; `failovers_one_running` already allows one per validator.
 */
export class MoveWatchdog1795700000600 implements MigrationInterface {
  name = 'MoveWatchdog1795700000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE failovers
      ADD COLUMN kind text NOT NULL DEFAULT 'failover' CHECK (kind IN ('failover','upgrade','rollback')),
      ADD COLUMN attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
      ADD COLUMN deadline_at timestamptz,
      ADD COLUMN outcome text`);
    await q.query(`ALTER TABLE failovers DROP CONSTRAINT failovers_status_check`);
    await q.query(`ALTER TABLE failovers ADD CONSTRAINT failovers_status_check
      CHECK (status IN ('running','done','replanned','failed','cancelled'))`);
    // Leaked rows: a running move whose validator is no longer moving at that generation.
    await q.query(`UPDATE failovers f SET status = 'cancelled', finished_at = now(),
        outcome = 'closed by migration: the validator was no longer moving'
       WHERE f.status = 'running' AND NOT EXISTS (
         SELECT 1 FROM validators v WHERE v.id = f.validator_id
            AND v.state = 'failing_over' AND v.generation = f.generation)`);
    await q.query(
      `UPDATE failovers SET deadline_at = started_at + interval '180 seconds' WHERE deadline_at IS NULL`,
    );
    // Rows written without one (older code, hand-written fixes) get the default deadline.
    await q.query(`ALTER TABLE failovers ALTER COLUMN deadline_at SET DEFAULT now() + interval '180 seconds',
      ALTER COLUMN deadline_at SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE failovers SET status = 'failed' WHERE status IN ('replanned','cancelled')`,
    );
    await q.query(`ALTER TABLE failovers DROP CONSTRAINT failovers_status_check`);
    await q.query(`ALTER TABLE failovers ADD CONSTRAINT failovers_status_check
      CHECK (status IN ('running','done','failed'))`);
    await q.query(`ALTER TABLE failovers DROP COLUMN outcome, DROP COLUMN deadline_at,
      DROP COLUMN attempt, DROP COLUMN kind`);
  }
}
