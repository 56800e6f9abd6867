import type { DataSource } from 'typeorm';
import type {
  HealthState,
  MoveKind,
  ValidatorState,
  ZoneAssessment,
  ZoneStatus,
} from '@snowline/domain';

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
