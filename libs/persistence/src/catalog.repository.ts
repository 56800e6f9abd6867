import type { DataSource } from 'typeorm';
import { inTransaction, managerOf } from './tx';

/** One row of the region's instance-type catalog, as the cloud answered it. */
export interface CatalogRow {
  zoneId: string;
  instanceType: string;
  status: string;
  category: string;
  vcpu: number | null;
  memoryGiB: number | null;
}

/** The region's instance-type catalog: written by the worker, read by the API. */
export class InstanceTypeCatalogRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Replaces the region's catalog with `rows` in one transaction, so a reader sees the old catalog
   * or the new one, never half of each.
   */
  async replace(region: string, rows: CatalogRow[], at: Date): Promise<void> {
    await inTransaction(this.ds, async (tx) => {
      await managerOf(tx).query(`DELETE FROM instance_type_catalog WHERE region = $1`, [region]);
      if (!rows.length) return;
      await managerOf(tx).query(
        `INSERT INTO instance_type_catalog
           (region, zone_id, instance_type, status, status_category, vcpu, memory_gib, refreshed_at)
         SELECT $1, z, t, s, c, v, m, $8
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[])
             AS r(z, t, s, c, v, m)
         ON CONFLICT (region, zone_id, instance_type) DO NOTHING`,
        [
          region,
          rows.map((r) => r.zoneId),
          rows.map((r) => r.instanceType),
          rows.map((r) => r.status),
          rows.map((r) => r.category),
          rows.map((r) => r.vcpu),
          rows.map((r) => r.memoryGiB),
          at,
        ],
      );
    });
  }

  /** The region's whole catalog (empty: never read). */
  async list(region: string): Promise<CatalogRow[]> {
    const rows = (await this.ds.query(
      `SELECT zone_id, instance_type, status, status_category, vcpu, memory_gib
         FROM instance_type_catalog WHERE region = $1 ORDER BY instance_type, zone_id`,
      [region],
    )) as {
      zone_id: string;
      instance_type: string;
      status: string;
      status_category: string;
      vcpu: number | null;
      memory_gib: number | null;
    }[];
    return rows.map((r) => ({
      zoneId: r.zone_id,
      instanceType: r.instance_type,
      status: r.status,
      category: r.status_category,
      vcpu: r.vcpu,
      memoryGiB: r.memory_gib,
    }));
  }
}
