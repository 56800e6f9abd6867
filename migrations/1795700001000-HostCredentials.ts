import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Host credentials (issue 18, point 1). Hosts launched from now on speak agent protocol 2: a random,
 * single-use, short-lived bootstrap token (its hash, and a sealed copy for RunInstances replays until
 * it is spent), then the host's own public keys. Every host that exists already keeps protocol 1
 * (its permanent bearer token), so nothing running has to change at once (no flag day).
 */
export class HostCredentials1795700001000 implements MigrationInterface {
  name = 'HostCredentials1795700001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts
      ALTER COLUMN bootstrap_token_hash DROP NOT NULL,
      ADD COLUMN bootstrap_token_sealed bytea,
      ADD COLUMN bootstrap_expires_at timestamptz,
      ADD COLUMN agent_protocol smallint NOT NULL DEFAULT 1,
      ADD COLUMN agent_signing_key text,
      ADD COLUMN agent_encryption_key text,
      ADD COLUMN agent_key_bound_at timestamptz,
      ADD CONSTRAINT hosts_agent_protocol_check CHECK (agent_protocol IN (1, 2))`);
    // Existing rows took 1 above; rows written from now on are protocol 2 unless they say otherwise.
    await q.query(`ALTER TABLE hosts ALTER COLUMN agent_protocol SET DEFAULT 2`);
  }

  async down(q: QueryRunner): Promise<void> {
    // A spent token opens nothing: a random hash keeps it that way under the old NOT NULL.
    await q.query(
      `UPDATE hosts SET bootstrap_token_hash = md5(random()::text || id::text) WHERE bootstrap_token_hash IS NULL`,
    );
    await q.query(`ALTER TABLE hosts
      DROP CONSTRAINT hosts_agent_protocol_check,
      DROP COLUMN agent_key_bound_at,
      DROP COLUMN agent_encryption_key,
      DROP COLUMN agent_signing_key,
      DROP COLUMN agent_protocol,
      DROP COLUMN bootstrap_expires_at,
      DROP COLUMN bootstrap_token_sealed,
      ALTER COLUMN bootstrap_token_hash SET NOT NULL`);
  }
}
