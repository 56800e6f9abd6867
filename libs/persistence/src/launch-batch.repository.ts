import { inTransaction, managerOf, type Tx } from './tx';
import { Repo, resealTokenColumn } from './repo';

/** A launch batch (launch_batches): validators launched by one RunInstances with Amount. */
export interface LaunchBatch {
  id: string;
  zone: string;
  instanceType: string;
  size: number;
  bootstrapTokenHash: string | null;
  bootstrapTokenSealed: Buffer | null;
  bootstrapExpiresAt: Date | null;
  instanceIds: string[] | null;
}

const batchOf = (r: Record<string, unknown>): LaunchBatch => ({
  id: r.id as string,
  zone: r.zone as string,
  instanceType: r.instance_type as string,
  size: r.size as number,
  bootstrapTokenHash: (r.bootstrap_token_hash as string | null) ?? null,
  bootstrapTokenSealed: (r.bootstrap_token_sealed as Buffer | null) ?? null,
  bootstrapExpiresAt: (r.bootstrap_expires_at as Date | null) ?? null,
  instanceIds: (r.instance_ids as string[] | null) ?? null,
});

export class LaunchBatchRepository extends Repo {
  async create(
    b: Pick<
      LaunchBatch,
      'id' | 'zone' | 'instanceType' | 'size' | 'bootstrapTokenHash' | 'bootstrapTokenSealed'
    >,
    tx: Tx,
  ): Promise<void> {
    await managerOf(tx).query(
      `INSERT INTO launch_batches (id, zone, instance_type, size, bootstrap_token_hash, bootstrap_token_sealed)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [b.id, b.zone, b.instanceType, b.size, b.bootstrapTokenHash, b.bootstrapTokenSealed],
    );
  }
  async findById(id: string, tx?: Tx): Promise<LaunchBatch | null> {
    const rows = (await this.em(tx).query(`SELECT * FROM launch_batches WHERE id = $1`, [
      id,
    ])) as Record<string, unknown>[];
    return rows[0] ? batchOf(rows[0]) : null;
  }
  /** The batches of `ids` that exist (the reaper asks for every batch id it finds in tags). */
  async findByIds(ids: string[]): Promise<LaunchBatch[]> {
    if (!ids.length) return [];
    const rows = (await this.ds.query(`SELECT * FROM launch_batches WHERE id = ANY($1::uuid[])`, [
      ids,
    ])) as Record<string, unknown>[];
    return rows.map(batchOf);
  }
  /** Before each RunInstances attempt: the batch's token opens nothing after the TTL. */
  async armToken(id: string, ttlSeconds: number): Promise<void> {
    await this.ds.query(
      `UPDATE launch_batches SET bootstrap_expires_at = clock_timestamp() + make_interval(secs => $2)
        WHERE id = $1 AND bootstrap_token_sealed IS NOT NULL`,
      [id, ttlSeconds],
    );
  }
  /**
   * The cloud's answer, stored before any host row is told its instance (a replay names the same).
   * The first answer stored wins — a provision job's, or the instances the reaper or a retire found
   * by the batch's tag: returns the ids the batch holds, and whether this call stored them.
   */
  async recordInstances(
    id: string,
    instanceIds: string[],
  ): Promise<{ instanceIds: string[]; recorded: boolean }> {
    return inTransaction(this.ds, async (tx) => {
      const [stored] = (await managerOf(tx).query(
        `WITH u AS (
           UPDATE launch_batches SET instance_ids = $2, launched_at = coalesce(launched_at, now())
            WHERE id = $1 AND instance_ids IS NULL
            RETURNING instance_ids)
         SELECT instance_ids FROM u`,
        [id, instanceIds],
      )) as { instance_ids: string[] }[];
      if (!stored) {
        const [cur] = (await managerOf(tx).query(
          `SELECT instance_ids FROM launch_batches WHERE id = $1`,
          [id],
        )) as { instance_ids: string[] | null }[];
        return { instanceIds: cur?.instance_ids ?? [], recorded: false };
      }
      // Every member learns its instance in the same statement, so its agent can register at once.
      await managerOf(tx).query(
        `UPDATE hosts SET instance_id = ($2::text[])[batch_index + 1], cloud_status = 'Pending', updated_at = now()
          WHERE batch_id = $1 AND instance_id IS NULL AND deleted_at IS NULL`,
        [id, instanceIds],
      );
      return { instanceIds, recorded: true };
    });
  }
  /** Spends the batch's token once every live host of it has bound its own key. */
  async spendIfAllBound(id: string, tx: Tx): Promise<void> {
    await managerOf(tx).query(
      `UPDATE launch_batches SET bootstrap_token_hash = NULL, bootstrap_token_sealed = NULL
        WHERE id = $1 AND NOT EXISTS (
          SELECT 1 FROM hosts WHERE batch_id = $1 AND deleted_at IS NULL AND agent_signing_key IS NULL)`,
      [id],
    );
  }
  /** keys:rotate: re-seals every unspent batch token; `reseal` throws if the old key fails. */
  async resealTokens(reseal: (sealed: Buffer, batchId: string) => Buffer, tx: Tx): Promise<number> {
    return resealTokenColumn('launch_batches', reseal, tx);
  }
}
