import { Inject, Injectable } from '@nestjs/common';
import { CloudProvider, type InstanceFullStatus } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  aggregateZone,
  cloudEvidence,
  cloudShowsStopped,
  controlPlaneBlindUntil,
  controlPlaneSuspect,
  zoneOutageZones,
  evaluateHealth,
  type CloudObservation,
  type HealthState,
  type ZoneAssessment,
  type ZoneStatus,
} from '@snowline/domain';
import { Repositories, type LeaseFence, type SweepHost } from '@snowline/persistence';
import { RemediationService } from '../failover/remediation.service';
import { LeaderLoop } from '../lifecycle/leader-loop';

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

const BATCH = 100;
const CLOUD_LANES = 4;

/**
 * Health detection, one leader at a time. Every SWEEP_INTERVAL it observes every live host (batched
 * DescribeInstancesFullStatus, lease freshness, the agents' node reports), records verdicts and
 * cloud-confirmed stops, judges zones, opens and closes incidents — and then hands that sweep's
 * verdicts to remediation (failover/remediation.service.ts), which acts on them under its caps.
 * Standby refill and the reaper are loops of their own (standby/).
 */
@Injectable()
export class SweeperService extends LeaderLoop<SweepStats> {
  /** When the previous sweep started and what it concluded about Snowline's own blindness. */
  private previous?: { at: number; blindUntil: number | null };

  constructor(
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
    private readonly remediation: RemediationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'sweeper', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  /** One leader round: a sweep, its figures recorded for the API's metrics. */
  protected async round(): Promise<SweepStats> {
    // Verdicts by the database's clock, the one leases are written by.
    const stats = await this.sweep((await this.repos.clock()).getTime(), this.fence());
    await this.repos.controlLoops.record('sweeper', stats);
    return stats;
  }

  /**
   * Cloud-confirmed stops, the fast path of fencing: a host whose instance the cloud shows Stopped or
   * gone gets `stop_confirmed_at` — unless its agent renewed after the Describe began, which proves
   * it alive (a lagging status cache). Seen running again, the confirmation is withdrawn.
   */
  private async recordStops(
    verdicts: { host: SweepHost; stopped: boolean | null }[],
    describedFrom: Date,
  ): Promise<void> {
    const flips = verdicts.filter(
      (x) => x.stopped !== null && x.stopped === (x.host.stopConfirmedAt === null),
    );
    await this.repos.hosts.recordStops(
      flips.map((x) => ({ id: x.host.id, stopped: x.stopped! })),
      describedFrom,
    );
  }

  /** One sweep; `fence` (the loop's lease, in a round) gates the moves it starts. */
  async sweep(nowMs = Date.now(), fence?: LeaseFence): Promise<SweepStats> {
    const t0 = performance.now();
    const now = new Date(nowMs);
    const hosts = await this.repos.hosts.forSweep();

    // 1. Observe the cloud, ≤ 100 ids a call; a failed batch leaves its hosts "unknown", never "ok".
    const observed = new Map<string, InstanceFullStatus>();
    // Every Describe below begins after this moment: a stop it shows is a stop at (or after) it.
    const describedFrom = await this.repos.clock();
    const failedBatch = new Set<string>();
    let cloudCalls = 0;
    let cloudFailedCalls = 0;
    const ids = hosts.map((h) => h.instanceId);
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
      if (h.leaseExpiresAt === null) continue;
      leasedHosts++;
      const t = h.lastReportAt?.getTime() ?? null;
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
      const s = observed.get(h.instanceId);
      const cloud: CloudObservation = failedBatch.has(h.instanceId)
        ? null
        : s
          ? { status: s.status, health: s.health, events: s.events }
          : 'missing';
      const v = evaluateHealth(
        {
          role: h.role,
          createdAt: h.createdAt.getTime(),
          registeredAt: h.registeredAt?.getTime() ?? null,
          leaseExpiresAt: h.leaseExpiresAt?.getTime() ?? null,
          lastReportAt: h.lastReportAt?.getTime() ?? null,
          lastReport: h.lastReport,
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
        x.verdict.reason !== x.host.healthReason ||
        (x.cloud &&
          (x.cloud.status !== x.host.cloudStatus || x.cloud.health !== x.host.cloudHealth)),
    );
    if (changed.length) {
      await this.repos.hosts.recordVerdicts(
        changed.map((x) => ({
          id: x.host.id,
          health: x.verdict.state,
          reason: x.verdict.reason,
          cloudStatus: x.cloud?.status ?? null,
          cloudHealth: x.cloud?.health ?? null,
        })),
        now,
      );
      await this.repos.events.appendMany(
        changed
          .filter((c) => c.verdict.state !== c.host.health)
          .map((x) => ({
            type: 'host.health_changed',
            message: `Host ${x.host.instanceId} in ${x.host.zone}: ${x.host.health} → ${x.verdict.state} (${x.verdict.reason})`,
            projectId: x.host.projectId,
            validatorId: x.host.validatorId,
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
    const prevZones = await this.repos.zones.statuses();
    const zones: ZoneAssessment[] = this.config.cloud.zones.map((zone) =>
      aggregateZone(
        zone,
        verdicts
          .filter((x) => x.host.zone === zone)
          .map((x) => ({ state: x.verdict.state, cloudConfirmed: x.cloudConfirmed })),
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

    // 5. Remediation acts on this sweep's verdicts, under its caps (its own class and file).
    const failoversStarted = await this.remediation.remediate(
      verdicts,
      suspectSelf,
      nowMs,
      zoneOutageZones(zones, zoneSettings),
      fence,
    );

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
    const row = await this.repos.controlLoops.fields('sweeper', ['startedAt', 'blindUntil']);
    const [startedAt, blindUntil] = row ?? [null, null];
    if (!startedAt) return undefined;
    return { at: Date.parse(startedAt), blindUntil: blindUntil ? Date.parse(blindUntil) : null };
  }

  private async recordZones(
    zones: ZoneAssessment[],
    prev: Map<string, { status: ZoneStatus }>,
    verdicts: { host: SweepHost }[],
    now: Date,
    observed: boolean,
  ): Promise<void> {
    for (const z of zones) {
      const standbys = verdicts.filter(
        (x) => x.host.zone === z.zone && x.host.role === 'standby',
      ).length;
      const before = prev.get(z.zone)?.status ?? 'healthy';
      await this.repos.zones.record(z, standbys, now, observed ? now : null);
      if (z.status === before) {
        if (this.incidentWorthy(z)) await this.touchIncident(z);
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
      else if (this.incidentWorthy(z)) await this.touchIncident(z);
    }
  }

  /**
   * A zone judged by ratio has an incident whenever it is not healthy; one with too few hosts only
   * when the cloud confirms every host down (dark): Snowline's silence alone makes it amber, no more.
   */
  private incidentWorthy(z: ZoneAssessment): boolean {
    return z.status !== 'healthy' && (z.judged || z.status === 'dark');
  }

  /** Opens (or refreshes) the zone's incident, with the validators that were placed there. */
  private async touchIncident(z: ZoneAssessment): Promise<void> {
    // One failed instance in a 1-host zone is no critical incident: that takes a judged zone.
    const severity = z.status === 'dark' && z.judged ? 'critical' : 'major';
    const summary = `Zone ${z.zone} ${z.status}: ${z.reason ?? ''}; no new placement there`;
    const affected = await this.repos.hosts.validatorsPlacedIn(z.zone);
    const opened = await this.repos.incidents.openOrRefreshZone(
      z.zone,
      severity,
      summary,
      affected,
    );
    if (opened?.inserted) {
      await this.repos.events.append({
        type: 'incident.opened',
        message: `Incident opened: ${summary}`,
        zone: z.zone,
        data: { incidentId: opened.id, severity, affected: affected.length },
      });
    }
  }

  private async closeIncident(kind: string, zone: string | null, message: string): Promise<void> {
    const closed = await this.repos.incidents.close(kind, zone);
    if (closed) {
      await this.repos.events.append({
        type: 'incident.closed',
        message: `Incident closed: ${message}`,
        zone,
        data: { incidentId: closed },
      });
    }
  }

  private async recordSelfSuspicion(suspect: boolean, zones: ZoneAssessment[]): Promise<void> {
    if (!suspect)
      return this.closeIncident('control-plane-suspect', null, 'zones look healthy again');
    // Name exactly the zones this is about: the ones judged down (controlPlaneSuspect's own view).
    const down = zones.filter((z) => z.status !== 'healthy');
    const summary = `${down.length === zones.length ? 'Every zone' : 'Every zone with enough hosts to judge'} looks down (${down.map((z) => `${z.zone}: ${z.status}`).join(', ')}): suspecting Snowline's own network or clock; failover on Snowline's word alone is paused (instances the cloud reports gone or stopped are still replaced)`;
    const opened = await this.repos.incidents.openControlPlaneSuspect(summary);
    if (opened) {
      this.log.error(summary);
      await this.repos.events.append({
        type: 'incident.opened',
        message: `Critical incident: ${summary}`,
        data: { incidentId: opened, severity: 'critical', kind: 'control-plane-suspect' },
      });
    }
  }
}
