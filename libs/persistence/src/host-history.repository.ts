import type { DataSource } from 'typeorm';
import type { HealthState, HostRole, ValidatorState } from '@snowline/domain';

/** One host a validator has run on (or is being launched on), with how its tenure ended. */
export interface HostHistoryRow {
  id: string;
  zone: string;
  instanceId: string | null;
  instanceType: string;
  role: HostRole;
  /** The last generation this host held. */
  generation: number | null;
  createdAt: Date;
  /** When it took this validator's identity: a claimed standby's failover, else its launch. */
  assignedAt: Date;
  registeredAt: Date | null;
  deletedAt: Date | null;
  fenced: boolean;
  cloudStatus: string | null;
  cloudHealth: string | null;
  cloudObservedAt: Date | null;
  health: HealthState;
  healthReason: string | null;
  healthSince: Date | null;
  leaseExpiresAt: Date | null;
  lastReport: Record<string, unknown> | null;
  lastReportAt: Date | null;
  /** The AvalancheGo release its UserData named; null for a host from before versions. */
  version: string | null;
  /** The version its agent last reported (as of lastReportAt); null = unknown. */
  runningVersion: string | null;
  /** The failover that moved the identity off this host, if one did. */
  failoverAway: { at: Date; reason: string; toZone: string | null } | null;
  /** The first fence or reap recorded for this host, if any. */
  endEvent: { type: string; message: string; at: Date } | null;
}

export interface HostHistoryValidator {
  id: string;
  state: ValidatorState;
  hostId: string | null;
  generation: number;
  retiredAt: Date | null;
}

/** The last completed sweep, as the sweeper recorded it in `control_loops`. */
export interface LastSweep {
  /** When the sweep observed the fleet (its start). */
  at: Date;
  /** Every cloud status call of that sweep answered; null when the record does not say. */
  cloudComplete: boolean | null;
}

interface HostRowDb {
  id: string;
  zone: string;
  instance_id: string | null;
  instance_type: string;
  role: HostRole;
  generation: number | null;
  created_at: Date;
  assigned_at: Date;
  registered_at: Date | null;
  deleted_at: Date | null;
  fenced: boolean;
  cloud_status: string | null;
  cloud_health: string | null;
  cloud_observed_at: Date | null;
  health: HealthState;
  health_reason: string | null;
  health_since: Date | null;
  lease_expires_at: Date | null;
  last_report: Record<string, unknown> | null;
  last_report_at: Date | null;
  avalanchego_version: string | null;
  running_version: string | null;
  away_at: Date | null;
  away_reason: string | null;
  away_to_zone: string | null;
  end_type: string | null;
  end_message: string | null;
  end_at: Date | null;
}

const fromDb = (r: HostRowDb): HostHistoryRow => ({
  id: r.id,
  zone: r.zone,
  instanceId: r.instance_id,
  instanceType: r.instance_type,
  role: r.role,
  generation: r.generation,
  createdAt: r.created_at,
  assignedAt: r.assigned_at,
  registeredAt: r.registered_at,
  deletedAt: r.deleted_at,
  fenced: r.fenced,
  cloudStatus: r.cloud_status,
  cloudHealth: r.cloud_health,
  cloudObservedAt: r.cloud_observed_at,
  health: r.health,
  healthReason: r.health_reason,
  healthSince: r.health_since,
  leaseExpiresAt: r.lease_expires_at,
  lastReport: r.last_report,
  lastReportAt: r.last_report_at,
  version: r.avalanchego_version,
  runningVersion: r.running_version,
  failoverAway:
    r.away_at && r.away_reason !== null
      ? { at: r.away_at, reason: r.away_reason, toZone: r.away_to_zone }
      : null,
  endEvent:
    r.end_type && r.end_message !== null && r.end_at
      ? { type: r.end_type, message: r.end_message, at: r.end_at }
      : null,
});

/** Read-only: the hosts a validator has run on, for the public API and the console. */
export class HostHistoryRepository {
  constructor(private readonly ds: DataSource) {}

  async validator(projectId: string, id: string): Promise<HostHistoryValidator | null> {
    const rows = (await this.ds.query(
      `SELECT id, state, host_id, generation, retired_at FROM validators WHERE project_id = $1 AND id = $2`,
      [projectId, id],
    )) as {
      id: string;
      state: ValidatorState;
      host_id: string | null;
      generation: number;
      retired_at: Date | null;
    }[];
    const r = rows[0];
    return r
      ? {
          id: r.id,
          state: r.state,
          hostId: r.host_id,
          generation: r.generation,
          retiredAt: r.retired_at,
        }
      : null;
  }

  /**
   * The validator's hosts, newest tenure first (when each took the identity), keyset-paged on
   * (that time, id). Host rows that never got an instance (a launch refused for lack of stock) ran
   * nothing and are left out.
   */
  async hosts(
    validatorId: string,
    page: { limit: number; cursor?: { startedAt: Date; id: string } | null },
  ): Promise<HostHistoryRow[]> {
    if (!page.cursor) return this.query(validatorId, '', [page.limit]);
    return this.query(validatorId, 'AND (x.assigned_at, x.id) < ($3, $4::uuid)', [
      page.limit,
      page.cursor.startedAt,
      page.cursor.id,
    ]);
  }

  /** One of the validator's hosts (its current one, when it is not on the page asked for). */
  async host(validatorId: string, hostId: string): Promise<HostHistoryRow | null> {
    const rows = await this.query(validatorId, 'AND x.id = $3', [1, hostId]);
    return rows[0] ?? null;
  }

  /** The one SELECT: `where` narrows the validator's hosts (as `x`); `$2` is the limit. */
  private async query(
    validatorId: string,
    where: string,
    args: unknown[],
  ): Promise<HostHistoryRow[]> {
    const rows = (await this.ds.query(
      `SELECT * FROM (
         SELECT h.id, h.zone, h.instance_id, h.instance_type, h.role, h.generation, h.created_at,
                h.registered_at, h.deleted_at, h.fenced, h.cloud_status, h.cloud_health,
                h.cloud_observed_at, h.health, h.health_reason, h.health_since, h.lease_expires_at,
                h.last_report, h.last_report_at, h.avalanchego_version, h.running_version,
                -- milliseconds, as a cursor carries them: a page never ends inside a millisecond
                date_trunc('milliseconds', coalesce(fin.started_at, h.created_at)) AS assigned_at,
                fout.started_at AS away_at, fout.reason AS away_reason, fout.to_zone AS away_to_zone,
                ev.type AS end_type, ev.message AS end_message, ev.created_at AS end_at
           FROM hosts h
           LEFT JOIN LATERAL (
             SELECT f.started_at FROM failovers f
              WHERE f.validator_id = $1 AND f.to_host_id = h.id ORDER BY f.started_at LIMIT 1
           ) fin ON true
           LEFT JOIN LATERAL (
             SELECT f.started_at, f.reason, f.to_zone FROM failovers f
              WHERE f.validator_id = $1 AND f.from_host_id = h.id ORDER BY f.started_at DESC LIMIT 1
           ) fout ON true
           LEFT JOIN LATERAL (
             SELECT e.type, e.message, e.created_at FROM events e
              WHERE e.validator_id = $1 AND e.host_id = h.id AND e.type IN ('host.fenced', 'host.reaped')
              ORDER BY e.id LIMIT 1
           ) ev ON true
          WHERE h.validator_id = $1 AND (h.instance_id IS NOT NULL OR h.deleted_at IS NULL)
       ) x
       WHERE true ${where}
       ORDER BY x.assigned_at DESC, x.id DESC
       LIMIT $2`,
      [validatorId, ...args],
    )) as HostRowDb[];
    return rows.map(fromDb);
  }

  async lastSweep(): Promise<LastSweep | null> {
    const rows = (await this.ds.query(
      `SELECT stats, updated_at FROM control_loops WHERE name = 'sweeper'`,
    )) as {
      stats: { startedAt?: unknown; durationMs?: unknown; cloudFailedCalls?: unknown };
      updated_at: Date;
    }[];
    const r = rows[0];
    if (!r) return null;
    const started = typeof r.stats.startedAt === 'string' ? new Date(r.stats.startedAt) : null;
    // Records written before `startedAt` existed: the sweep began `durationMs` before it was saved.
    const at =
      started && !Number.isNaN(started.getTime())
        ? started
        : new Date(
            r.updated_at.getTime() -
              (typeof r.stats.durationMs === 'number' ? r.stats.durationMs : 0),
          );
    const failed = r.stats.cloudFailedCalls;
    return { at, cloudComplete: typeof failed === 'number' ? failed === 0 : null };
  }
}
