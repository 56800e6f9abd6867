import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A generated staking identity is made after the validator row (off the request path): until then the
 * validator has no identity and no NodeID. Imported identities are still attached at creation.
 */
export class DeferredIdentity1795700000000 implements MigrationInterface {
  name = 'DeferredIdentity1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE validators
      ALTER COLUMN identity_id DROP NOT NULL,
      ALTER COLUMN node_id DROP NOT NULL`);
    // Provisioning never starts without an identity; NodeID and identity come together.
    await q.query(`ALTER TABLE validators
      ADD CONSTRAINT validators_identity_before_provisioning
        CHECK (identity_id IS NOT NULL OR state IN ('pending', 'retiring', 'retired', 'failed')),
      ADD CONSTRAINT validators_node_id_with_identity
        CHECK ((identity_id IS NULL) = (node_id IS NULL))`);
    // The generator's queue: pending validators still waiting for an identity.
    await q.query(
      `CREATE INDEX validators_awaiting_identity ON validators (created_at) WHERE identity_id IS NULL AND state = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX validators_awaiting_identity`);
    await q.query(`ALTER TABLE validators
      DROP CONSTRAINT validators_identity_before_provisioning,
      DROP CONSTRAINT validators_node_id_with_identity`);
    // Never drop a validator to make the schema fit: let the API generate the missing identities first.
    const [{ n }] = (await q.query(
      `SELECT count(*)::int AS n FROM validators WHERE identity_id IS NULL`,
    )) as { n: number }[];
    if (n > 0)
      throw new Error(
        `${n} validator(s) still wait for a generated identity; start the API until none do, then revert.`,
      );
    await q.query(`ALTER TABLE validators
      ALTER COLUMN identity_id SET NOT NULL,
      ALTER COLUMN node_id SET NOT NULL`);
  }
}
