import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CloudProvider, type InstanceFullStatus } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  aggregateZone,
  cloudEvidence,
  cloudShowsStopped,
  controlPlaneBlindUntil,
  controlPlaneSuspect,
  decideRemediation,
  evaluateHealth,
  type CloudObservation,
  type HealthState,
  type ZoneAssessment,
  type ZoneStatus,
} from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { FailoverService } from '../failover/failover.service';
import { LeaderLoop } from '../lifecycle/leader-loop';
import { ReaperService } from '../standby/reaper.service';
import { StandbyPoolService } from '../standby/standby-pool.service';

export interface SweepStats {
  /** When this sweep observed the fleet: the age of every verdict it recorded (ISO). */
  startedAt: string;
  hosts: number;
  cloudCalls: number;
  /** Cloud status calls that failed; 0 means every live host's cloud status was seen this sweep. */
  cloudFailedCalls: number;
  durationMs: number;
  verdicts: Record<HealthState, number>;
  zones: Record<string, ZoneStatus>;
  failoversStarted: number;
  suspectSelf: boolean;
  /** Until when stale leases are not judged because Snowline itself was away (ISO), and why. */
  blindUntil: string | null;
  blindReason: string | null;
}

interface HostRow {
  id: string;
  role: 'assigned' | 'standby';
  zone: string;
  instance_id: string;
  validator_id: string | null;
  project_id: string | null;
  generation: number | null;
  created_at: Date;
  registered_at: Date | null;
  lease_expires_at: Date | null;
  last_report_at: Date | null;
  last_report: { running: boolean; healthy: boolean | null; bootstrapped: boolean | null } | null;
  health: HealthState;
  health_reason: string | null;
  health_since: Date | null;
  cloud_status: string | null;
  cloud_health: string | null;
  stop_confirmed_at: Date | null;
  v_host_id: string | null;
  v_state: string | null;
  v_generation: number | null;
}

const BATCH = 100;
const CLOUD_LANES = 4;

/**
 * The health loop: one leader at a time. Every SWEEP_INTERVAL it observes every live host (batched
 * DescribeInstancesFullStatus, lease freshness, the agents' node reports), records verdicts, judges
 * zones, opens and closes incidents — and only then hands unhealthy validators to the failover
 * service, under its caps.
 */
@Injectable()
export class SweeperService extends LeaderLoop<SweepStats> {
  private rounds = 0;
  /** When the previous sweep started and what it concluded about Snowline's own blindness. */
  private previous?: { at: number; blindUntil: number | null };

  constructor(
    private readonly ds: DataSource,
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
    private readonly failover: FailoverService,
    private readonly standby: StandbyPoolService,
    private readonly reaper: ReaperService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(ds, 'sweeper');
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  /** One leader round: sweep, then keep the standby pool and reap stale hosts. */
  protected async round(): Promise<SweepStats> {
    const stats = await this.sweep();
    await this.ds.query(
      `INSERT INTO control_loops (name, stats, updated_at) VALUES ('sweeper', $1, now())
       ON CONFLICT (name) DO UPDATE SET stats = EXCLUDED.stats, updated_at = now()`,
      [JSON.stringify(stats)],
    );
    if (!stats.suspectSelf) {
      const open = Object.entries(stats.zones)
        .filter(([, s]) => s === 'healthy')
        .map(([z]) => z);
      await this.standby.refill(open);
    }
    await this.reaper.run();
    // Orphans by tag: a full listing, so only every twelfth round (~1 min at the default interval).
    if (this.rounds++ % 12 === 0) await this.reaper.orphans();
    return stats;
  }

  /**
   * Cloud-confirmed stops, the fast path of fencing: a host whose instance the cloud shows Stopped or
   * gone gets `stop_confirmed_at` — unless its agent renewed after the Describe began, which proves
   * it alive (a lagging status cache). Seen running again, the confirmation is withdrawn.
   */
  private async recordStops(
    verdicts: { host: HostRow; stopped: boolean | null }[],
    describedFrom: Date,
  ): Promise<void> {
    const flips = verdicts.filter(
      (x) => x.stopped !== null && x.stopped === (x.host.stop_confirmed_at === null),
    );
    if (!flips.length) return;
    await this.ds.query(
      `UPDATE hosts h SET stop_confirmed_at = CASE WHEN c.stopped THEN $3::timestamptz END
         FROM unnest($1::uuid[], $2::bool[]) AS c(id, stopped)
        WHERE h.id = c.id
          AND (NOT c.stopped OR h.last_report_at IS NULL OR h.last_report_at < $3::timestamptz)`,
      [flips.map((x) => x.host.id), flips.map((x) => x.stopped), describedFrom],
    );
  }

  async sweep(nowMs = Date.now()): Promise<SweepStats> {
    const t0 = performance.now();
    const now = new Date(nowMs);
    const hosts = (await this.ds.query(
      `SELECT h.id, h.role, h.zone, h.instance_id, h.validator_id, h.project_id, h.generation,
              h.created_at, h.registered_at, h.lease_expires_at, h.last_report_at, h.last_report,
              h.health, h.health_reason, h.health_since, h.cloud_status, h.cloud_health,
              h.stop_confirmed_at, v.host_id AS v_host_id, v.state AS v_state, v.generation AS v_generation
         FROM hosts h LEFT JOIN validators v ON v.id = h.validator_id
        WHERE h.deleted_at IS NULL AND h.instance_id IS NOT NULL`,
    )) as HostRow[];

    // 1. Observe the cloud, ≤ 100 ids a call; a failed batch leaves its hosts "unknown", never "ok".
    const observed = new Map<string, InstanceFullStatus>();
    // Every Describe below begins after this moment: a stop it shows is a stop at (or after) it.
    const describedFrom = new Date();
    const failedBatch = new Set<string>();
    let cloudCalls = 0;
    let cloudFailedCalls = 0;
    const ids = hosts.map((h) => h.instance_id);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
    // A few batches in flight at once: ECS answers in tens to hundreds of ms, and 100 sequential
    // calls would outlast the sweep interval. The provider's rate limiter still applies.
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        cloudCalls++;
        try {
          for (const s of await this.cloud.fullStatus(batch)) observed.set(s.instanceId, s);
        } catch (err) {
          cloudFailedCalls++;
          for (const id of batch) failedBatch.add(id);
          this.log.warn(
            { err: (err as Error).message, batch: batch.length },
            'cloud status unavailable',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CLOUD_LANES, batches.length) }, lane));

    // 2. Verdicts (pure), knowing Snowline's own outages: a gap in the sweeps or renewals missing
    // fleet-wide give every agent one lease interval to come back before its lease is judged.
    const previous = this.previous ?? (await this.previousSweep());
    let leasedHosts = 0;
    let newestRenewalAt: number | null = null;
    for (const h of hosts) {
      if (h.lease_expires_at === null) continue;
      leasedHosts++;
      const t = h.last_report_at?.getTime() ?? null;
      if (t !== null && (newestRenewalAt === null || t > newestRenewalAt)) newestRenewalAt = t;
    }
    const blind = controlPlaneBlindUntil({
      now: nowMs,
      previousSweepAt: previous?.at ?? null,
      sweepIntervalMs: this.config.health.sweepIntervalSeconds * 1000,
      renewIntervalMs: this.config.agent.renewSeconds * 1000,
      leaseTtlMs: this.config.agent.leaseTtlSeconds * 1000,
      leasedHosts,
      newestRenewalAt,
      minHosts: this.config.health.zoneMinHosts,
      previousBlindUntil: previous?.blindUntil ?? null,
    });
    this.previous = { at: nowMs, blindUntil: blind.blindUntil };
    if (blind.blindUntil !== null && blind.blindUntil !== previous?.blindUntil)
      this.log.warn(
        { until: new Date(blind.blindUntil).toISOString(), why: blind.reason },
        'Snowline was away: leases are not judged until agents have had one lease interval to renew',
      );
    const settings = {
      renewIntervalMs: this.config.agent.renewSeconds * 1000,
      startupTimeoutMs: this.config.health.hostStartupTimeoutSeconds * 1000,
      blindUntil: blind.blindUntil,
    };
    const verdicts = hosts.map((h) => {
      const s = observed.get(h.instance_id);
      const cloud: CloudObservation = failedBatch.has(h.instance_id)
        ? null
        : s
          ? { status: s.status, health: s.health, events: s.events }
          : 'missing';
      const v = evaluateHealth(
        {
          role: h.role,
          createdAt: h.created_at.getTime(),
          registeredAt: h.registered_at?.getTime() ?? null,
          leaseExpiresAt: h.lease_expires_at?.getTime() ?? null,
          lastReportAt: h.last_report_at?.getTime() ?? null,
          lastReport: h.last_report,
        },
        cloud,
        nowMs,
        settings,
      );
      return {
        host: h,
        verdict: v,
        cloud: s,
        cloudConfirmed: cloudEvidence(cloud) !== null,
        stopped: cloud === null ? null : cloudShowsStopped(cloud),
      };
    });
    await this.recordStops(verdicts, describedFrom);

    // 3. Record what changed (one statement), with an event per transition.
    const changed = verdicts.filter(
      (x) =>
        x.verdict.state !== x.host.health ||
        x.verdict.reason !== x.host.health_reason ||
        (x.cloud &&
          (x.cloud.status !== x.host.cloud_status || x.cloud.health !== x.host.cloud_health)),
    );
    if (changed.length) {
      await this.ds.query(
        `UPDATE hosts h SET
            health = c.health,
            health_reason = c.reason,
            health_since = CASE WHEN h.health = c.health THEN h.health_since ELSE $5::timestamptz END,
            cloud_status = coalesce(c.cloud_status, h.cloud_status),
            cloud_health = coalesce(c.cloud_health, h.cloud_health),
            cloud_observed_at = CASE WHEN c.cloud_status IS NULL THEN h.cloud_observed_at ELSE $5::timestamptz END
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $6::text[])
             AS c(id, health, reason, cloud_status, cloud_health)
          WHERE h.id = c.id`,
        [
          changed.map((x) => x.host.id),
          changed.map((x) => x.verdict.state),
          changed.map((x) => x.verdict.reason),
          changed.map((x) => x.cloud?.status ?? null),
          now,
          changed.map((x) => x.cloud?.health ?? null),
        ],
      );
      await this.repos.events.appendMany(
        changed
          .filter((c) => c.verdict.state !== c.host.health)
          .map((x) => ({
            type: 'host.health_changed',
            message: `Host ${x.host.instance_id} in ${x.host.zone}: ${x.host.health} → ${x.verdict.state} (${x.verdict.reason})`,
            projectId: x.host.project_id,
            validatorId: x.host.validator_id,
            hostId: x.host.id,
            zone: x.host.zone,
            data: { from: x.host.health, to: x.verdict.state, reason: x.verdict.reason },
          })),
      );
    }

    // 4. Zones.
    const zoneSettings = {
      unhealthyThreshold: this.config.health.zoneUnhealthyThreshold,
      minHosts: this.config.health.zoneMinHosts,
      recoverySweeps: this.config.health.zoneRecoverySweeps,
    };
    const prevZones = new Map(
      (
        (await this.ds.query(`SELECT id, status, healthy_sweeps FROM zones`)) as {
          id: string;
          status: ZoneStatus;
          healthy_sweeps: number;
        }[]
      ).map((z) => [z.id, { status: z.status, healthySweeps: z.healthy_sweeps }]),
    );
    const zones: ZoneAssessment[] = this.config.cloud.zones.map((zone) =>
      aggregateZone(
        zone,
        verdicts.filter((x) => x.host.zone === zone).map((x) => x.verdict.state),
        prevZones.get(zone),
        zoneSettings,
      ),
    );
    const suspectSelf = controlPlaneSuspect(zones, zoneSettings);
    await this.recordZones(
      zones,
      prevZones,
      verdicts,
      now,
      failedBatch.size < ids.length || ids.length === 0,
    );
    await this.recordSelfSuspicion(suspectSelf, zones);

    // 5. Remediation, apart from detection and under caps.
    const failoversStarted = await this.remediate(verdicts, suspectSelf, nowMs);

    const counts: Record<HealthState, number> = {
      healthy: 0,
      suspect: 0,
      unhealthy: 0,
      unknown: 0,
    };
    for (const x of verdicts) counts[x.verdict.state]++;
    return {
      startedAt: now.toISOString(),
      hosts: hosts.length,
      cloudCalls,
      cloudFailedCalls,
      durationMs: Math.round(performance.now() - t0),
      verdicts: counts,
      zones: Object.fromEntries(zones.map((z) => [z.zone, z.status])),
      failoversStarted,
      suspectSelf,
      blindUntil: blind.blindUntil === null ? null : new Date(blind.blindUntil).toISOString(),
      blindReason: blind.reason,
    };
  }

  /** The last sweep any leader recorded (a restarted or new leader must see the gap too). */
  private async previousSweep(): Promise<{ at: number; blindUntil: number | null } | undefined> {
    const [row] = (await this.ds.query(
      `SELECT stats->>'startedAt' AS started_at, stats->>'blindUntil' AS blind_until
         FROM control_loops WHERE name = 'sweeper'`,
    )) as { started_at: string | null; blind_until: string | null }[];
    if (!row?.started_at) return undefined;
    return {
      at: Date.parse(row.started_at),
      blindUntil: row.blind_until ? Date.parse(row.blind_until) : null,
    };
  }

  private async recordZones(
    zones: ZoneAssessment[],
    prev: Map<string, { status: ZoneStatus }>,
    verdicts: { host: HostRow }[],
    now: Date,
    observed: boolean,
  ): Promise<void> {
    for (const z of zones) {
      const standbys = verdicts.filter(
        (x) => x.host.zone === z.zone && x.host.role === 'standby',
      ).length;
      const before = prev.get(z.zone)?.status ?? 'healthy';
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
          now,
          z.hosts,
          z.unhealthy,
          standbys,
          z.healthySweeps,
          observed ? now : null,
        ],
      );
      if (z.status === before) {
        if (z.status !== 'healthy') await this.touchIncident(z);
        continue;
      }
      await this.repos.events.append({
        type: 'zone.status_changed',
        message: `Zone ${z.zone}: ${before} → ${z.status}${z.reason ? ` (${z.reason})` : ''}`,
        zone: z.zone,
        data: {
          from: before,
          to: z.status,
          reason: z.reason,
          placementAllowed: z.placementAllowed,
        },
      });
      if (z.status === 'healthy')
        await this.closeIncident('zone-impaired', z.zone, `Zone ${z.zone} recovered`);
      else await this.touchIncident(z);
    }
  }

  /** Opens (or refreshes) the zone's incident, with the validators that were placed there. */
  private async touchIncident(z: ZoneAssessment): Promise<void> {
    const severity = z.status === 'dark' ? 'critical' : 'major';
    const summary = `Zone ${z.zone} ${z.status}: ${z.reason ?? ''}; no new placement there`;
    const affected = (
      (await this.ds.query(
        `SELECT DISTINCT validator_id AS id FROM hosts
          WHERE zone = $1 AND role = 'assigned' AND validator_id IS NOT NULL
            AND (deleted_at IS NULL OR deleted_at > now() - interval '1 hour')`,
        [z.zone],
      )) as { id: string }[]
    ).map((r) => r.id);
    const opened = (await this.ds.query(
      `INSERT INTO incidents (zone, kind, severity, summary, affected_validators)
       VALUES ($1, 'zone-impaired', $2, $3, $4::uuid[])
       ON CONFLICT (kind, coalesce(zone, '')) WHERE status = 'open'
       DO UPDATE SET severity = EXCLUDED.severity, summary = EXCLUDED.summary,
         affected_validators = ARRAY(SELECT DISTINCT unnest(incidents.affected_validators || EXCLUDED.affected_validators))
       RETURNING id, (xmax = 0) AS inserted`,
      [z.zone, severity, summary, affected],
    )) as { id: string; inserted: boolean }[];
    if (opened[0]?.inserted) {
      await this.repos.events.append({
        type: 'incident.opened',
        message: `Incident opened: ${summary}`,
        zone: z.zone,
        data: { incidentId: opened[0].id, severity, affected: affected.length },
      });
    }
  }

  private async closeIncident(kind: string, zone: string | null, message: string): Promise<void> {
    const closed = (await this.ds.query(
      `UPDATE incidents SET status = 'closed', closed_at = now()
        WHERE status = 'open' AND kind = $1 AND coalesce(zone, '') = coalesce($2, '') RETURNING id`,
      [kind, zone],
    )) as [{ id: string }[], number] | { id: string }[];
    const rows = Array.isArray(closed[0])
      ? (closed[0] as { id: string }[])
      : (closed as { id: string }[]);
    if (rows.length) {
      await this.repos.events.append({
        type: 'incident.closed',
        message: `Incident closed: ${message}`,
        zone,
        data: { incidentId: rows[0]!.id },
      });
    }
  }

  private async recordSelfSuspicion(suspect: boolean, zones: ZoneAssessment[]): Promise<void> {
    if (!suspect)
      return this.closeIncident('control-plane-suspect', null, 'zones look healthy again');
    // Name exactly the zones this is about: the ones judged down (controlPlaneSuspect's own view).
    const down = zones.filter((z) => z.status !== 'healthy');
    const summary = `${down.length === zones.length ? 'Every zone' : 'Every zone with enough hosts to judge'} looks down (${down.map((z) => `${z.zone}: ${z.status}`).join(', ')}): suspecting Snowline's own network or clock; failover on Snowline's word alone is paused (instances the cloud reports gone or stopped are still replaced)`;
    const opened = (await this.ds.query(
      `INSERT INTO incidents (zone, kind, severity, summary) VALUES (NULL, 'control-plane-suspect', 'critical', $1)
       ON CONFLICT (kind, coalesce(zone, '')) WHERE status = 'open' DO NOTHING RETURNING id`,
      [summary],
    )) as { id: string }[];
    if (opened.length) {
      this.log.error(summary);
      await this.repos.events.append({
        type: 'incident.opened',
        message: `Critical incident: ${summary}`,
        data: { incidentId: opened[0]!.id, severity: 'critical', kind: 'control-plane-suspect' },
      });
    }
  }

  private async remediate(
    verdicts: {
      host: HostRow;
      verdict: { state: HealthState; reason: string };
      cloudConfirmed: boolean;
    }[],
    suspectSelf: boolean,
    nowMs: number,
  ): Promise<number> {
    const current = verdicts.filter(
      (x) => x.host.role === 'assigned' && x.host.validator_id && x.host.v_host_id === x.host.id,
    );
    // Degraded while the node or agent looks wrong (one statement each way): a validator whose host
    // is suspect or unhealthy never shows `active`, held or not.
    await this.moveStates(
      current.filter(
        (x) =>
          (x.verdict.state === 'suspect' || x.verdict.state === 'unhealthy') &&
          x.host.v_state === 'active',
      ),
      'degraded',
      'active',
    );
    await this.moveStates(
      current.filter((x) => x.verdict.state === 'healthy' && x.host.v_state === 'degraded'),
      'active',
      'degraded',
    );
    const candidates = current.filter(
      (x) =>
        x.verdict.state === 'unhealthy' &&
        ['active', 'degraded', 'syncing'].includes(x.host.v_state ?? ''),
    );
    if (!candidates.length) return 0;
    // Live moves only: the watchdog ends every move, so a `running` row is a move under way.
    const [{ running, recent }] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
              coalesce(array_agg(extract(epoch FROM started_at) * 1000) FILTER (WHERE started_at > now() - interval '1 minute'), '{}') AS recent
         FROM failovers WHERE started_at > now() - interval '1 day' OR status = 'running'`,
    )) as [{ running: number; recent: number[] }];
    const moves = (await this.ds.query(
      // The flapping budget counts failovers, not the watchdog's re-plans of one, nor upgrades.
      `SELECT validator_id, count(*)::int AS n FROM failovers
        WHERE started_at > now() - interval '1 day' AND validator_id = ANY($1)
          AND kind = 'failover' AND attempt = 1
        GROUP BY validator_id`,
      [candidates.map((c) => c.host.validator_id)],
    )) as { validator_id: string; n: number }[];
    // The max-unhealthy cap weighs Snowline's own word (silence) only, never the cloud's.
    const unhealthyAssigned = current.filter(
      (x) => x.verdict.state === 'unhealthy' && !x.cloudConfirmed,
    ).length;
    const decision = decideRemediation(
      candidates.map((c) => ({
        validatorId: c.host.validator_id!,
        unhealthySince:
          c.host.health === 'unhealthy' && c.host.health_since
            ? c.host.health_since.getTime()
            : nowMs,
        cloudConfirmed: c.cloudConfirmed,
      })),
      {
        now: nowMs,
        running,
        recentStarts: recent.map(Number),
        movesToday: new Map(moves.map((m) => [m.validator_id, m.n])),
        unhealthyAssigned,
        totalAssigned: current.length,
        suspectSelf,
      },
      {
        graceMs: this.config.failover.graceSeconds * 1000,
        maxConcurrent: this.config.failover.maxConcurrent,
        ratePerMinute: this.config.failover.ratePerMinute,
        maxUnhealthyFraction: this.config.failover.maxUnhealthyPercent / 100,
        dailyBudget: this.config.failover.dailyBudget,
        capMinHosts: this.config.health.zoneMinHosts,
      },
    );
    let started = 0;
    for (const validatorId of decision.start) {
      const c = candidates.find((x) => x.host.validator_id === validatorId)!;
      const method = await this.failover
        .start({
          validatorId,
          fromHostId: c.host.id,
          reason: c.verdict.reason,
          detectedAt:
            c.host.health === 'unhealthy' && c.host.health_since
              ? c.host.health_since
              : new Date(nowMs),
        })
        .catch((err: Error) => {
          this.log.warn({ validatorId, err: err.message }, 'failover could not start');
          return null;
        });
      if (method) started++;
    }
    return started;
  }

  private async moveStates(
    rows: { host: HostRow; verdict: { reason: string } }[],
    to: 'active' | 'degraded',
    from: 'active' | 'degraded',
  ): Promise<void> {
    if (!rows.length) return;
    const reasons = new Map(rows.map((r) => [r.host.validator_id!, r.verdict.reason]));
    const hostOf = new Map(rows.map((r) => [r.host.validator_id!, r.host]));
    const moved = (await this.ds.query(
      `UPDATE validators v SET state = $2, state_reason = CASE WHEN $2 = 'degraded' THEN r.reason ELSE NULL END, updated_at = now()
         FROM unnest($1::uuid[], $4::text[]) AS r(id, reason)
        WHERE v.id = r.id AND v.state = $3
        RETURNING v.id`,
      [[...reasons.keys()], to, from, [...reasons.values()]],
    )) as [{ id: string }[], number];
    await this.repos.events.appendMany(
      moved[0].map(({ id }) => {
        const host = hostOf.get(id)!;
        return {
          type: `validator.${to}`,
          message:
            to === 'degraded'
              ? `Validator degraded: ${reasons.get(id)}`
              : 'Validator healthy again',
          projectId: host.project_id,
          validatorId: id,
          hostId: host.id,
          zone: host.zone,
        };
      }),
    );
  }
}
