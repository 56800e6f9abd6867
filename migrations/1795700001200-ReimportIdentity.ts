import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A retired validator's identity can be imported again (issue 18, point 5). The identity row it
 * had is kept for history, marked superseded; a NodeID is unique among rows not superseded. Key
 * grants look for every former holder of a NodeID across validators (validators.node_id index).
 */
export class ReimportIdentity1795700001200 implements MigrationInterface {
  name = 'ReimportIdentity1795700001200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE staking_identities ADD COLUMN superseded_at timestamptz`);
    await q.query(`ALTER TABLE staking_identities DROP CONSTRAINT staking_identities_node_id_key`);
    await q.query(
      `CREATE UNIQUE INDEX staking_identities_node_id_live ON staking_identities (node_id) WHERE superseded_at IS NULL`,
    );
    await q.query(`CREATE INDEX validators_node_id ON validators (node_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX validators_node_id`);
    await q.query(`DROP INDEX staking_identities_node_id_live`);
    await q.query(
      `ALTER TABLE staking_identities ADD CONSTRAINT staking_identities_node_id_key UNIQUE (node_id)`,
    );
    await q.query(`ALTER TABLE staking_identities DROP COLUMN superseded_at`);
  }
}
