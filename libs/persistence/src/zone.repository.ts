import type { DataSource } from 'typeorm';
import type { ZoneAssessment, ZoneStatus } from '@snowline/domain';

/** A zone's row as the API shows it. */
export interface ZoneRow {
  id: string;
  status: ZoneStatus;
  placementAllowed: boolean;
  reason: string | null;
  statusSince: Date;
  hosts: number;
  unhealthy: number;
  standbys: number;
  stock: Record<string, string>;
  lastObservedAt: Date | null;
}

/** Zone verdicts as the health sweep records them. */
export class ZoneRepository {
  constructor(private readonly ds: DataSource) {}

  /** Every recorded zone's status and its run of healthy sweeps (for hysteresis). */
  async statuses(): Promise<Map<string, { status: ZoneStatus; healthySweeps: number }>> {
    const rows = (await this.ds.query(`SELECT id, status, healthy_sweeps FROM zones`)) as {
      id: string;
      status: ZoneStatus;
      healthy_sweeps: number;
    }[];
    return new Map(rows.map((z) => [z.id, { status: z.status, healthySweeps: z.healthy_sweeps }]));
  }

  /**
   * Upserts one zone's assessment; `status_since` moves only with the status, `last_observed_at`
   * only when `observedAt` is given (the cloud answered this sweep).
   */
  async record(
    z: ZoneAssessment,
    standbys: number,
    at: Date,
    observedAt: Date | null,
  ): Promise<void> {
    await this.ds.query(
      `INSERT INTO zones (id, status, placement_allowed, reason, status_since, hosts, unhealthy, standbys, healthy_sweeps, last_observed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO UPDATE SET
         status = EXCLUDED.status, placement_allowed = EXCLUDED.placement_allowed, reason = EXCLUDED.reason,
         status_since = CASE WHEN zones.status = EXCLUDED.status THEN zones.status_since ELSE EXCLUDED.status_since END,
         hosts = EXCLUDED.hosts, unhealthy = EXCLUDED.unhealthy, standbys = EXCLUDED.standbys,
         healthy_sweeps = EXCLUDED.healthy_sweeps,
         last_observed_at = coalesce(EXCLUDED.last_observed_at, zones.last_observed_at)`,
      [
        z.zone,
        z.status,
        z.placementAllowed,
        z.reason,
        at,
        z.hosts,
        z.unhealthy,
        standbys,
        z.healthySweeps,
        observedAt,
      ],
    );
  }

  /** Every recorded zone as the API shows it (a zone never swept has no row). */
  all(): Promise<ZoneRow[]> {
    return this.ds.query(
      `SELECT id, status, placement_allowed AS "placementAllowed", reason, status_since AS "statusSince",
              hosts, unhealthy, standbys, stock, last_observed_at AS "lastObservedAt"
         FROM zones`,
    ) as Promise<ZoneRow[]>;
  }

  /** Zones the health loop has closed to placement (impaired or dark), with their host counts. */
  closedToPlacement(): Promise<{ id: string; hosts: number }[]> {
    return this.ds.query(`SELECT id, hosts FROM zones WHERE NOT placement_allowed`) as Promise<
      { id: string; hosts: number }[]
    >;
  }

  /** Of `zones`, those the last sweep judged healthy, in the order given. */
  async healthy(zones: string[]): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT id FROM zones WHERE id = ANY($1) AND status = 'healthy'`,
      [zones],
    )) as { id: string }[];
    const ok = new Set(rows.map((r) => r.id));
    return zones.filter((z) => ok.has(z));
  }
}
