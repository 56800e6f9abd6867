import { compareMoveUrgency, type MoveUrgency } from './staking';

/**
 * Detection, pure: what the sweeper concludes about a host from what it observed. No I/O, no clock
 * of its own (`now` is passed in), table-tested. Remediation lives elsewhere and acts on verdicts.
 */
export type HealthState = 'healthy' | 'suspect' | 'unhealthy' | 'unknown';
export type ZoneStatus = 'healthy' | 'impaired' | 'dark';

export interface Verdict {
  state: HealthState;
  reason: string;
}

export interface HostFacts {
  role: 'assigned' | 'standby';
  createdAt: number;
  registeredAt: number | null;
  leaseExpiresAt: number | null;
  lastReportAt: number | null;
  lastReport: { running: boolean; healthy: boolean | null; bootstrapped: boolean | null } | null;
}

/** What the cloud said this sweep: its status, `missing` (no such instance), or null (the call failed). */
export type CloudObservation =
  { status: string; health: string; events: { type: string }[] } | 'missing' | null;

export interface HealthSettings {
  renewIntervalMs: number;
  /** How long a new host may take to register before it counts as failed. */
  startupTimeoutMs: number;
  /**
   * Until this moment a stale lease proves nothing: Snowline itself was away (a gap in the sweeps, or
   * no renewal arriving from any host) and agents get one lease interval to come back (see
   * `controlPlaneBlindUntil`). Null or past: leases are judged as usual.
   */
  blindUntil?: number | null;
}

export interface BlindnessInput {
  now: number;
  /** When the previous sweep started (this leader's, or the last one recorded); null if never. */
  previousSweepAt: number | null;
  sweepIntervalMs: number;
  renewIntervalMs: number;
  leaseTtlMs: number;
  /** Hosts that hold a lease, and the newest renewal any of them made. */
  leasedHosts: number;
  newestRenewalAt: number | null;
  /** Fewer leased hosts than this and fleet-wide silence says nothing (one host may just be dead). */
  minHosts: number;
  /** What the previous sweep concluded. */
  previousBlindUntil: number | null;
}

/**
 * The health loop's knowledge of its own outages. A gap in its sweeps (worker frozen, restarted, its
 * database away) or renewals missing fleet-wide at once (the API, or its path to the database, is
 * down) means lease expiry was Snowline's silence, not the agents': leases are not judged until one
 * lease TTL after Snowline can hear again. Positive evidence from the cloud is judged meanwhile.
 */
export function controlPlaneBlindUntil(b: BlindnessInput): {
  blindUntil: number | null;
  reason: string | null;
} {
  const gap = b.previousSweepAt === null ? 0 : b.now - b.previousSweepAt;
  const gapped = gap > Math.max(3 * b.sweepIntervalMs, 2 * b.renewIntervalMs);
  const silent =
    b.leasedHosts >= b.minHosts &&
    (b.newestRenewalAt === null || b.now - b.newestRenewalAt > 2.5 * b.renewIntervalMs);
  if (gapped || silent) {
    const reason = gapped
      ? `the health loop did not run for ${secs(gap)}`
      : `no renewal arrived from any of ${b.leasedHosts} hosts for ${secs(b.now - (b.newestRenewalAt ?? b.now))}`;
    return { blindUntil: Math.max(b.previousBlindUntil ?? 0, b.now + b.leaseTtlMs), reason };
  }
  if (b.previousBlindUntil !== null && b.previousBlindUntil > b.now)
    return {
      blindUntil: b.previousBlindUntil,
      reason: 'Snowline was away; agents are coming back',
    };
  return { blindUntil: null, reason: null };
}

/**
 * Positive evidence from the cloud that the instance is down: gone, stopping or stopped, or impaired
 * by a system event. Null when the cloud said nothing of the kind, or could not be asked. This is
 * what the remediation caps must not hold back: they guard against Snowline's own blindness.
 */
export function cloudEvidence(cloud: CloudObservation): string | null {
  if (cloud === 'missing') return 'the instance no longer exists';
  if (!cloud) return null;
  if (cloud.status === 'Stopped' || cloud.status === 'Stopping')
    return `ECS reports the instance ${cloud.status}`;
  if (cloud.health.toLowerCase() === 'impaired') {
    const ev = cloud.events[0]?.type;
    return `ECS reports the instance Impaired${ev ? ` (${ev})` : ''}`;
  }
  return null;
}

/**
 * Whether an observation proves the instance's guest is off: ECS says `Stopped`, or the instance is
 * gone. Not `Stopping` (the guest may still run), not Impaired-while-Running, not an unanswered call.
 * "Gone" counts only for instances Snowline did not delete itself: a delete call returns before the
 * guest is off, so the reaper deletes a former holder only once its stop was confirmed or its lease
 * ran out (and the sweeper observes only hosts not deleted).
 */
export function cloudShowsStopped(cloud: CloudObservation): boolean {
  if (cloud === 'missing') return true;
  return cloud !== null && cloud.status === 'Stopped';
}

export function evaluateHealth(
  host: HostFacts,
  cloud: CloudObservation,
  now: number,
  s: HealthSettings,
): Verdict {
  const evidence = cloudEvidence(cloud);
  if (evidence) return { state: 'unhealthy', reason: evidence };
  // Registered but never leased (e.g. the agent died right after registering) is still starting: no
  // lease is no evidence of health, and without this it would read as "lease fresh" forever.
  if (host.registeredAt === null || host.leaseExpiresAt === null) {
    const step = host.registeredAt === null ? 'registered' : 'taken its first lease';
    const age = now - host.createdAt;
    if (age > s.startupTimeoutMs) {
      return { state: 'unhealthy', reason: `the agent has not ${step} ${secs(age)} after launch` };
    }
    return { state: 'unknown', reason: `starting: the agent has not ${step} yet` };
  }
  const blind = s.blindUntil != null && now < s.blindUntil;
  const silentFor = host.lastReportAt === null ? null : now - host.lastReportAt;
  if (blind && (host.leaseExpiresAt <= now || (silentFor ?? 0) > 2.5 * s.renewIntervalMs)) {
    return {
      state: 'unknown',
      reason: `no renewal while Snowline's control plane was away; waiting ${secs(s.blindUntil! - now)} more for the agent`,
    };
  }
  if (host.leaseExpiresAt <= now) {
    return {
      state: 'unhealthy',
      reason: `lease expired ${secs(now - host.leaseExpiresAt)} ago: the agent is silent`,
    };
  }
  if (silentFor !== null && silentFor > 2.5 * s.renewIntervalMs) {
    return { state: 'suspect', reason: `no lease renewal for ${secs(silentFor)}` };
  }
  const r = host.lastReport;
  if (host.role === 'assigned' && r?.running && r.healthy === false && r.bootstrapped === true) {
    return { state: 'suspect', reason: 'the node reports unhealthy' };
  }
  if (cloud === null)
    return { state: 'healthy', reason: 'lease fresh; cloud status unknown this sweep' };
  return { state: 'healthy', reason: 'lease fresh, instance running' };
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

export interface ZoneSettings {
  /** Fraction of unhealthy hosts that makes a zone impaired (Kubernetes: 0.55). */
  unhealthyThreshold: number;
  /** Fewer hosts than this and the ratio says nothing (Kubernetes: 3). */
  minHosts: number;
  /** Consecutive healthy sweeps before an impaired zone counts as recovered. */
  recoverySweeps: number;
}

export interface ZonePrevious {
  status: ZoneStatus;
  healthySweeps: number;
}

export interface ZoneAssessment {
  zone: string;
  status: ZoneStatus;
  placementAllowed: boolean;
  hosts: number;
  unhealthy: number;
  healthySweeps: number;
  reason: string | null;
  /**
   * At least `minHosts` hosts were judged (not `unknown`), so the ratio speaks for the zone. A zone
   * judged on fewer is still never green while its hosts are down, but it does not count towards
   * "suspect myself" or a zone outage, and it goes dark only on the cloud's word for every host.
   */
  judged: boolean;
}

/** One host's verdict as zone aggregation weighs it: with whether the cloud itself says it is down. */
export interface ZoneHostVerdict {
  state: HealthState;
  /** `cloudEvidence` found positive evidence (gone, Stopped/Stopping, Impaired, a system event). */
  cloudConfirmed: boolean;
}

export function aggregateZone(
  zone: string,
  verdicts: readonly (HealthState | ZoneHostVerdict)[],
  prev: ZonePrevious | undefined,
  s: ZoneSettings,
): ZoneAssessment {
  const all = verdicts.map((v) =>
    typeof v === 'string' ? { state: v, cloudConfirmed: false } : v,
  );
  const judged = all.filter((v) => v.state !== 'unknown');
  const unhealthy = judged.filter((v) => v.state === 'unhealthy').length;
  const hosts = all.length;
  const enough = judged.length >= s.minHosts;
  const bad = judged.length > 0 && unhealthy / judged.length >= s.unhealthyThreshold;
  const base = { zone, hosts, unhealthy, judged: enough };
  if (bad) {
    const pct = Math.round((100 * unhealthy) / judged.length);
    // Too few hosts for the ratio to speak: amber on Snowline's word, dark only on the cloud's.
    const status: ZoneStatus = !enough
      ? all.every((v) => v.cloudConfirmed)
        ? 'dark'
        : 'impaired'
      : unhealthy === judged.length
        ? 'dark'
        : 'impaired';
    const reason = enough
      ? `${unhealthy} of ${judged.length} hosts unhealthy (${pct} %)`
      : status === 'dark'
        ? `${unhealthy} of ${judged.length} hosts down by the cloud's own word — too few hosts to judge the zone by ratio`
        : `${unhealthy} of ${judged.length} hosts unhealthy — too few hosts to judge the zone`;
    return { ...base, status, placementAllowed: false, healthySweeps: 0, reason };
  }
  if (prev && prev.status !== 'healthy') {
    const healthySweeps = prev.healthySweeps + 1;
    if (healthySweeps < s.recoverySweeps) {
      return {
        ...base,
        status: prev.status,
        placementAllowed: false,
        healthySweeps,
        reason: `recovering: healthy for ${healthySweeps} of ${s.recoverySweeps} sweeps`,
      };
    }
  }
  return { ...base, status: 'healthy', placementAllowed: true, healthySweeps: 0, reason: null };
}

/** Judged by ratio: at least `minHosts` hosts, and that many of them with a verdict this sweep. */
const isJudged = (z: ZoneAssessment, s: ZoneSettings) => z.hosts >= s.minHosts && z.judged;

/**
 * "If everything looks dead, suspect yourself": when every zone that can be judged is impaired or
 * dark (and there are at least two), the fault is more likely ours (network, clock) than the cloud's.
 */
export function controlPlaneSuspect(zones: ZoneAssessment[], s: ZoneSettings): boolean {
  const judged = zones.filter((z) => isJudged(z, s));
  return judged.length >= 2 && judged.every((z) => z.status !== 'healthy');
}

export interface RemediationCandidate {
  validatorId: string;
  unhealthySince: number;
  /**
   * The cloud itself says the instance is down (`cloudEvidence`). Such a candidate is not held by
   * "suspect myself" or the max-unhealthy cap — those guard against Snowline's blindness, and this
   * is not blindness — but grace, the daily budget, concurrency and the rate still apply.
   */
  cloudConfirmed?: boolean;
  /**
   * Its zone is dark or impaired while another judged zone is healthy (see `zoneOutageZones`):
   * Snowline hears the rest of the region, so this is the zone's failure, not its own blindness.
   * Such a move is not held by the concurrency or rate caps (they would stretch one zone's loss
   * into hours at fleet size); the fleet-wide holds, grace and the daily budget still apply.
   */
  zoneOutage?: boolean;
  /**
   * Its staking, as last evaluated (staking.ts): when standbys are scarce, the one with the least
   * downtime budget left moves first. Absent: nothing known (ordered after those with a budget).
   */
  staking?: MoveUrgency;
}

/**
 * Zones whose failure is evidence enough to move every validator in them at once: dark or impaired
 * (judged: at least `minHosts`) while some other judged zone is healthy. Empty when Snowline
 * suspects itself (every judged zone looks down).
 */
export function zoneOutageZones(zones: ZoneAssessment[], s: ZoneSettings): Set<string> {
  const judged = zones.filter((z) => isJudged(z, s));
  if (controlPlaneSuspect(zones, s) || !judged.some((z) => z.status === 'healthy'))
    return new Set();
  return new Set(judged.filter((z) => z.status !== 'healthy').map((z) => z.zone));
}

export interface RemediationSettings {
  graceMs: number;
  maxConcurrent: number;
  /** Failover starts allowed per minute (a token bucket refilled continuously). */
  ratePerMinute: number;
  /** Stop remediating when more than this fraction of assigned hosts is unhealthy. */
  maxUnhealthyFraction: number;
  /** Moves per validator per 24 h (EC2 auto-recovery: 3). */
  dailyBudget: number;
  /** The max-unhealthy cap judges only fleets at least this large (a ratio of 1 of 1 says nothing). */
  capMinHosts?: number;
}

export interface RemediationContext {
  now: number;
  running: number;
  /** Start times (ms) of failovers in the last minute. */
  recentStarts: number[];
  /** Moves of each candidate in the last 24 h. */
  movesToday: ReadonlyMap<string, number>;
  /** Assigned hosts unhealthy on Snowline's own word only (silence), not on the cloud's. */
  unhealthyAssigned: number;
  totalAssigned: number;
  suspectSelf: boolean;
}

export interface RemediationDecision {
  start: string[];
  held: { validatorId: string; reason: string }[];
}

export function decideRemediation(
  candidates: RemediationCandidate[],
  ctx: RemediationContext,
  s: RemediationSettings,
): RemediationDecision {
  const held: RemediationDecision['held'] = [];
  // The fleet-wide holds apply to what only Snowline's silence says; the cloud's word passes them.
  let hold: string | null = null;
  if (ctx.suspectSelf)
    hold = 'every zone looks down: suspecting the control plane, not remediating';
  else if (
    ctx.totalAssigned >= Math.max(1, s.capMinHosts ?? 1) &&
    ctx.unhealthyAssigned / ctx.totalAssigned > s.maxUnhealthyFraction
  )
    hold = `${ctx.unhealthyAssigned} of ${ctx.totalAssigned} hosts unhealthy, above the max-unhealthy cap of ${Math.round(100 * s.maxUnhealthyFraction)} %`;
  const eligible: RemediationCandidate[] = [];
  for (const c of candidates) {
    if (hold !== null && !c.cloudConfirmed) held.push({ validatorId: c.validatorId, reason: hold });
    else eligible.push(c);
  }
  let slots = Math.max(0, s.maxConcurrent - ctx.running);
  let tokens = Math.max(
    0,
    s.ratePerMinute - ctx.recentStarts.filter((t) => ctx.now - t < 60_000).length,
  );
  const start: string[] = [];
  // Least downtime budget left first (each move started takes the next synced standby, so the order
  // decides who gets one when they are scarce); then the longest unhealthy.
  const order = (a: RemediationCandidate, b: RemediationCandidate) =>
    compareMoveUrgency(a.staking, b.staking) || a.unhealthySince - b.unhealthySince;
  for (const c of eligible.sort(order)) {
    if (ctx.now - c.unhealthySince < s.graceMs) {
      held.push({ validatorId: c.validatorId, reason: 'within the grace period' });
    } else if ((ctx.movesToday.get(c.validatorId) ?? 0) >= s.dailyBudget) {
      held.push({
        validatorId: c.validatorId,
        reason: `moved ${s.dailyBudget} times in 24 h: flapping budget spent`,
      });
    } else if (c.zoneOutage) {
      // One zone's loss while the others answer: every move starts now, outside the storm caps.
      start.push(c.validatorId);
    } else if (slots < 1) {
      // `< 1`, not `=== 0`: a fractional setting (2.5, or a rate of 0.5/min) must not step past 0 forever.
      held.push({ validatorId: c.validatorId, reason: 'max concurrent failovers reached' });
    } else if (tokens < 1) {
      held.push({ validatorId: c.validatorId, reason: 'failover rate limit reached' });
    } else {
      start.push(c.validatorId);
      slots--;
      tokens--;
    }
  }
  return { start, held };
}
