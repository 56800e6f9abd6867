import type { DataSource } from 'typeorm';
import type { ValidatorState } from '@snowline/domain';

/** An incident as the API lists it, with the caller's affected validators. */
export interface IncidentRow {
  id: string;
  zone: string | null;
  kind: string;
  severity: string;
  status: 'open' | 'closed';
  summary: string;
  mine: {
    id: string;
    name: string;
    state: ValidatorState;
    zone: string | null;
    instanceId: string | null;
  }[];
  openedAt: Date;
  closedAt: Date | null;
}

/** Incidents the health sweep opens and closes (one open incident per kind and zone). */
export class IncidentRepository {
  constructor(private readonly ds: DataSource) {}

  /** Opens the zone's incident or refreshes it (severity, summary, affected validators added). */
  async openOrRefreshZone(
    zone: string,
    severity: 'critical' | 'major',
    summary: string,
    affected: string[],
  ): Promise<{ id: string; inserted: boolean } | undefined> {
    const rows = (await this.ds.query(
      `INSERT INTO incidents (zone, kind, severity, summary, affected_validators)
       VALUES ($1, 'zone-impaired', $2, $3, $4::uuid[])
       ON CONFLICT (kind, coalesce(zone, '')) WHERE status = 'open'
       DO UPDATE SET severity = EXCLUDED.severity, summary = EXCLUDED.summary,
         affected_validators = ARRAY(SELECT DISTINCT unnest(incidents.affected_validators || EXCLUDED.affected_validators))
       RETURNING id, (xmax = 0) AS inserted`,
      [zone, severity, summary, affected],
    )) as { id: string; inserted: boolean }[];
    return rows[0];
  }

  /** Opens the control-plane-suspect incident unless one is open; its id when this call opened it. */
  async openControlPlaneSuspect(summary: string): Promise<string | null> {
    const rows = (await this.ds.query(
      `INSERT INTO incidents (zone, kind, severity, summary) VALUES (NULL, 'control-plane-suspect', 'critical', $1)
       ON CONFLICT (kind, coalesce(zone, '')) WHERE status = 'open' DO NOTHING RETURNING id`,
      [summary],
    )) as { id: string }[];
    return rows[0]?.id ?? null;
  }

  /** Closes the open incident of this kind and zone; its id, or null when none was open. */
  async close(kind: string, zone: string | null): Promise<string | null> {
    const closed = (await this.ds.query(
      `UPDATE incidents SET status = 'closed', closed_at = now()
        WHERE status = 'open' AND kind = $1 AND coalesce(zone, '') = coalesce($2, '') RETURNING id`,
      [kind, zone],
    )) as [{ id: string }[], number] | { id: string }[];
    const rows = Array.isArray(closed[0])
      ? (closed[0] as { id: string }[])
      : (closed as { id: string }[]);
    return rows[0]?.id ?? null;
  }

  /** Open incidents per kind and severity (one grouped read, for the metrics scrape). */
  async openCounts(): Promise<{ kind: string; severity: string; n: number }[]> {
    return (await this.ds.query(
      `SELECT kind, severity, count(*)::int AS n FROM incidents WHERE status = 'open'
        GROUP BY kind, severity`,
    )) as { kind: string; severity: string; n: number }[];
  }

  /** Open zone incidents' ids by zone. */
  async openByZone(): Promise<Map<string, string>> {
    const rows = (await this.ds.query(
      `SELECT id, zone FROM incidents WHERE status = 'open' AND zone IS NOT NULL`,
    )) as { id: string; zone: string }[];
    const byZone = new Map<string, string>();
    // The first open one per zone, as the API has always shown.
    for (const r of rows) if (!byZone.has(r.zone)) byZone.set(r.zone, r.id);
    return byZone;
  }

  /**
   * Incidents newest first, each with the affected validators of `projectId` as they stand now
   * (where they run — nothing once retiring or retired — and their state), by name.
   */
  list(projectId: string, status: 'open' | 'closed' | null, limit: number): Promise<IncidentRow[]> {
    return this.ds.query(
      `SELECT i.id, i.zone, i.kind, i.severity, i.status, i.summary,
              i.opened_at AS "openedAt", i.closed_at AS "closedAt", coalesce((
           SELECT json_agg(json_build_object('id', v.id, 'name', v.name, 'state', v.state,
                    'zone', CASE WHEN v.state IN ('retiring', 'retired') THEN NULL ELSE v.zone END,
                    'instanceId', CASE WHEN v.state IN ('retiring', 'retired') THEN NULL ELSE v.instance_id END)
                  ORDER BY v.name)
             FROM validators v WHERE v.id = ANY(i.affected_validators) AND v.project_id = $1), '[]') AS mine
         FROM incidents i WHERE ($2::text IS NULL OR i.status = $2)
        ORDER BY i.opened_at DESC LIMIT $3`,
      [projectId, status, limit],
    ) as Promise<IncidentRow[]>;
  }

  /** Whether Snowline currently suspects itself (an open control-plane-suspect incident). */
  async controlPlaneSuspected(): Promise<boolean> {
    const rows = (await this.ds.query(
      `SELECT 1 FROM incidents WHERE status = 'open' AND kind = 'control-plane-suspect' LIMIT 1`,
    )) as unknown[];
    return rows.length > 0;
  }
}
