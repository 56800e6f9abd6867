import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A fenced agent's stop acknowledgment (issue 23, planned moves): the highest generation it promised
 * never to run again, sent once its node exited. The keys of a move may go to the new holder on it
 * (`acknowledgesStop`) instead of waiting out the old holder's lease.
 */
export class StopAcknowledgments1795700002100 implements MigrationInterface {
  name = 'StopAcknowledgments1795700002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN stop_acknowledged_generation integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN stop_acknowledged_generation`);
  }
}
