import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AvalancheGo versions (issue 23 points 1 and 4): the version a validator's spec asks for and its
 * upgrade policy; the release each host was launched with and the version its agent reports; and
 * which validators were warned about which activation (once each, with the deadline).
 *
 * Rows from before stay NULL ("not recorded"): the API shows the fleet default for such a validator's
 * version and `unknown` for such a host's, never a guess.
 */
export class AvalancheGoVersions1795700002300 implements MigrationInterface {
  name = 'AvalancheGoVersions1795700002300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE validators
      ADD COLUMN avalanchego_version text,
      ADD COLUMN upgrade_policy text NOT NULL DEFAULT 'manual'
        CONSTRAINT validators_upgrade_policy CHECK (upgrade_policy IN ('manual', 'before-deadline'))`);
    await q.query(
      `ALTER TABLE hosts ADD COLUMN avalanchego_version text, ADD COLUMN running_version text`,
    );
    await q.query(`CREATE TABLE version_warnings (
      validator_id uuid NOT NULL REFERENCES validators(id) ON DELETE CASCADE,
      activation text NOT NULL,
      network text NOT NULL,
      upgrade_name text NOT NULL,
      deadline timestamptz NOT NULL,
      min_version text NOT NULL,
      version text NOT NULL,
      cause text NOT NULL,
      warned_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (validator_id, activation)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE version_warnings`);
    await q.query(`ALTER TABLE hosts DROP COLUMN avalanchego_version, DROP COLUMN running_version`);
    await q.query(
      `ALTER TABLE validators DROP COLUMN avalanchego_version, DROP COLUMN upgrade_policy`,
    );
  }
}
