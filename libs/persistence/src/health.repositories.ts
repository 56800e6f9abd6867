import type { DataSource, EntityManager } from 'typeorm';
import type {
  HealthState,
  MoveKind,
  ValidatorState,
  ZoneAssessment,
  ZoneStatus,
} from '@snowline/domain';
import { FailoverEntity } from './entities';

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

/** An incident as the API lists it, with the caller's affected validators. */
export interface IncidentRow {
  id: string;
  zone: string | null;
  kind: string;
  severity: string;
  status: string;
  summary: string;
  mine: {
    id: string;
    name: string;
    state: string;
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

/** A live move as the watchdog judges it, with its validator and target host. */
export interface LiveMove {
  id: string;
  validatorId: string;
  kind: MoveKind;
  attempt: number;
  generation: number;
  deadlineAt: Date;
  validatorState: ValidatorState | null;
  validatorGeneration: number | null;
  /** The validator's current host at the move's generation: null fields when there is none. */
  targetInstanceId: string | null;
  targetZone: string | null;
  targetHealth: HealthState | null;
  targetHealthReason: string | null;
  targetDeleted: boolean | null;
  targetRegistered: boolean | null;
  targetKeys: boolean | null;
  targetRunning: boolean | null;
}

/** Failover rows as remediation's caps and the move watchdog read them. */
export class FailoverRepository {
  constructor(private readonly ds: DataSource) {}

  /** Moves under way, and the start times (ms) of those started in the last minute. */
  async load(): Promise<{ running: number; recentStarts: number[] }> {
    // Live moves only: the watchdog ends every move, so a `running` row is a move under way.
    const [{ running, recent }] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
              coalesce(array_agg(extract(epoch FROM started_at) * 1000) FILTER (WHERE started_at > now() - interval '1 minute'), '{}') AS recent
         FROM failovers WHERE started_at > now() - interval '1 day' OR status = 'running'`,
    )) as [{ running: number; recent: number[] }];
    return { running, recentStarts: recent.map(Number) };
  }

  /**
   * Failovers started in the last day per validator. The flapping budget counts failovers, not the
   * watchdog's re-plans of one, nor upgrades.
   */
  async failoversToday(validatorIds: string[]): Promise<Map<string, number>> {
    const rows = (await this.ds.query(
      `SELECT validator_id, count(*)::int AS n FROM failovers
        WHERE started_at > now() - interval '1 day' AND validator_id = ANY($1)
          AND kind = 'failover' AND attempt = 1
        GROUP BY validator_id`,
      [validatorIds],
    )) as { validator_id: string; n: number }[];
    return new Map(rows.map((m) => [m.validator_id, m.n]));
  }

  /** Records a move's attempt (a `running` row). */
  start(row: Partial<FailoverEntity>, tx: EntityManager): Promise<FailoverEntity> {
    return tx.save(FailoverEntity, tx.create(FailoverEntity, row));
  }

  /** Closes a running attempt; null if it was already closed (another round or process got there). */
  async close(
    id: string,
    status: 'done' | 'replanned' | 'failed' | 'cancelled',
    outcome: string,
    tx: EntityManager,
  ): Promise<FailoverEntity | null> {
    const [rows] = (await tx.query(
      `UPDATE failovers SET status = $2, outcome = $3, finished_at = now()
        WHERE id = $1 AND status = 'running' RETURNING id`,
      [id, status, outcome],
    )) as [{ id: string }[], number];
    if (!rows.length) return null;
    return tx.findOneBy(FailoverEntity, { id });
  }

  /** Cancels the validator's move under way, if any, so its row holds no concurrency slot. */
  async cancelRunning(validatorId: string, outcome: string, tx: EntityManager): Promise<void> {
    await tx.query(
      `UPDATE failovers SET status = 'cancelled', outcome = $2, finished_at = now()
        WHERE validator_id = $1 AND status = 'running'`,
      [validatorId, outcome],
    );
  }

  /**
   * Marks the validator's move under way done; how long it took (from detection, or its start when
   * nothing detected it), how, and from where. Undefined when no move was running.
   */
  async finishRunning(
    validatorId: string,
    tx: EntityManager,
  ): Promise<{ seconds: number; method: string; fromZone: string | null } | undefined> {
    const [rows] = (await tx.query(
      `UPDATE failovers SET status = 'done', finished_at = now()
        WHERE validator_id = $1 AND status = 'running'
        RETURNING extract(epoch FROM (finished_at - coalesce(detected_at, started_at))) AS seconds, method, from_zone`,
      [validatorId],
    )) as [{ seconds: string; method: string; from_zone: string | null }[], number];
    const done = rows[0];
    return done
      ? { seconds: Number(done.seconds), method: done.method, fromZone: done.from_zone }
      : undefined;
  }

  /** Every `running` move (oldest first, ≤ 1000) with its validator and target host. */
  live(): Promise<LiveMove[]> {
    return this.ds.query(
      `SELECT f.id, f.validator_id AS "validatorId", f.kind, f.attempt, f.generation,
              f.deadline_at AS "deadlineAt",
              v.state AS "validatorState", v.generation AS "validatorGeneration",
              t.instance_id AS "targetInstanceId", t.zone AS "targetZone", t.health AS "targetHealth",
              t.health_reason AS "targetHealthReason", (t.deleted_at IS NOT NULL) AS "targetDeleted",
              (t.registered_at IS NOT NULL) AS "targetRegistered",
              (t.keys_fetched_generation = f.generation) AS "targetKeys",
              coalesce((t.last_report->>'running')::boolean, false) AS "targetRunning"
         FROM failovers f
         LEFT JOIN validators v ON v.id = f.validator_id
         LEFT JOIN hosts t ON t.id = v.host_id AND t.generation = f.generation
        WHERE f.status = 'running'
        ORDER BY f.started_at
        LIMIT 1000`,
    ) as Promise<LiveMove[]>;
  }
}

/** Each loop's last figures (`control_loops`), read by the API's metrics and host views. */
export class ControlLoopRepository {
  constructor(private readonly ds: DataSource) {}

  async record(name: string, stats: object): Promise<void> {
    await this.ds.query(
      `INSERT INTO control_loops (name, stats, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET stats = EXCLUDED.stats, updated_at = now()`,
      [name, JSON.stringify(stats)],
    );
  }

  /** The loop's last figures and when it recorded them; null when it never has. */
  async last<T>(name: string): Promise<{ stats: T; updatedAt: Date } | null> {
    const [row] = (await this.ds.query(
      `SELECT stats, updated_at AS "updatedAt" FROM control_loops WHERE name = $1`,
      [name],
    )) as { stats: T; updatedAt: Date }[];
    return row ?? null;
  }

  /** When the loop last recorded its figures; null when it never has. */
  async updatedAt(name: string): Promise<Date | null> {
    const [row] = (await this.ds.query(`SELECT updated_at FROM control_loops WHERE name = $1`, [
      name,
    ])) as { updated_at: Date }[];
    return row?.updated_at ?? null;
  }

  /** Two fields of a loop's last stats, as text (null when the loop or the field is absent). */
  async fields(
    name: string,
    keys: [string, string],
  ): Promise<[string | null, string | null] | undefined> {
    const [row] = (await this.ds.query(
      `SELECT stats->>$2 AS a, stats->>$3 AS b FROM control_loops WHERE name = $1`,
      [name, keys[0], keys[1]],
    )) as { a: string | null; b: string | null }[];
    return row ? [row.a, row.b] : undefined;
  }
}
