import type { DataSource } from 'typeorm';
import { inTransaction, managerOf, type Tx } from './tx';
import type { PoolSetting } from '@snowline/domain';

export interface StoredPoolSetting extends PoolSetting {
  updatedBy: string;
  updatedAt: Date;
}

/**
 * The deployment's standby pool sizes (admin setting): network × zone → warm standbys. A pair with no
 * row falls back to the STANDBY_POOL default for its network.
 */
export class StandbyPoolRepository {
  constructor(private readonly ds: DataSource) {}

  async list(tx?: Tx): Promise<StoredPoolSetting[]> {
    const rows = (await (tx ? managerOf(tx) : this.ds.manager).query(
      `SELECT network, zone, size, updated_by, updated_at FROM standby_pool_sizes
        ORDER BY network, zone`,
    )) as { network: string; zone: string; size: number; updated_by: string; updated_at: Date }[];
    return rows.map((r) => ({
      network: r.network,
      zone: r.zone,
      size: r.size,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * Replaces the whole setting in one transaction (rows left out go back to the default); unchanged
   * rows keep who set them and when. Returns the setting as it was before.
   */
  async replace(settings: PoolSetting[], by: string): Promise<StoredPoolSetting[]> {
    return inTransaction(this.ds, async (tx) => {
      await managerOf(tx).query('LOCK TABLE standby_pool_sizes IN SHARE ROW EXCLUSIVE MODE');
      const before = await this.list(tx);
      await managerOf(tx).query(
        `DELETE FROM standby_pool_sizes s
          WHERE NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS n(network text, zone text, size int)
                             WHERE n.network = s.network AND n.zone = s.zone)`,
        [JSON.stringify(settings)],
      );
      await managerOf(tx).query(
        `INSERT INTO standby_pool_sizes (network, zone, size, updated_by, updated_at)
         SELECT network, zone, size, $2, now()
           FROM jsonb_to_recordset($1::jsonb) AS n(network text, zone text, size int)
         ON CONFLICT (network, zone) DO UPDATE
           SET size = EXCLUDED.size, updated_by = EXCLUDED.updated_by, updated_at = now()
         WHERE standby_pool_sizes.size IS DISTINCT FROM EXCLUDED.size`,
        [JSON.stringify(settings), by],
      );
      return before;
    });
  }

  /** The size each (network, zone) keeps: the setting where there is one, else the default. */
  async effective(
    defaults: Record<string, number>,
    zones: string[],
  ): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    for (const [network, n] of Object.entries(defaults))
      out.set(network, new Map(zones.map((z) => [z, n])));
    for (const s of await this.list()) {
      if (!zones.includes(s.zone)) continue;
      const byZone = out.get(s.network) ?? new Map(zones.map((z) => [z, 0]));
      byZone.set(s.zone, s.size);
      out.set(s.network, byZone);
    }
    return out;
  }
}
