import { IsNull } from 'typeorm';
import { managerOf, type Tx } from './tx';
import { StakingIdentityEntity } from './entities';
import { Repo } from './repo';

export class IdentityRepository extends Repo {
  findById(id: string, tx?: Tx) {
    return this.em(tx).findOneBy(StakingIdentityEntity, { id });
  }
  /**
   * The NodeID's identity row in use (not superseded by a re-import), locked (FOR UPDATE) until
   * `tx` ends: a re-import decides under it.
   */
  findByNodeIdForUpdate(nodeId: string, tx: Tx) {
    return managerOf(tx).findOne(StakingIdentityEntity, {
      where: { nodeId, supersededAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
  }
  /** Some validator not retired uses this identity (a retiring one counts: its hosts may still run). */
  async inUse(identityId: string, tx: Tx): Promise<boolean> {
    const rows = (await managerOf(tx).query(
      `SELECT 1 FROM validators WHERE identity_id = $1 AND state <> 'retired' LIMIT 1`,
      [identityId],
    )) as unknown[];
    return rows.length > 0;
  }
  async supersede(identityId: string, tx: Tx): Promise<void> {
    await managerOf(tx).query(`UPDATE staking_identities SET superseded_at = now() WHERE id = $1`, [
      identityId,
    ]);
  }
  insert(row: Omit<StakingIdentityEntity, 'id' | 'createdAt' | 'supersededAt'>, tx?: Tx) {
    const em = this.em(tx);
    return em.save(StakingIdentityEntity, em.create(StakingIdentityEntity, row));
  }
  all(tx?: Tx) {
    return this.em(tx).find(StakingIdentityEntity, { order: { createdAt: 'ASC' } });
  }
  /** Key rotation: every identity, with inserts and updates blocked until `tx` ends. */
  async allLockedForRotation(tx: Tx) {
    await managerOf(tx).query('LOCK TABLE staking_identities IN EXCLUSIVE MODE');
    return managerOf(tx).find(StakingIdentityEntity, { order: { createdAt: 'ASC' } });
  }
  updateWrapping(id: string, wrappedDataKey: Buffer, masterKeyId: string, tx?: Tx) {
    return this.em(tx).update(StakingIdentityEntity, { id }, { wrappedDataKey, masterKeyId });
  }
}
