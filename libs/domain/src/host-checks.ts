/**
 * What a person may believe about a host right now, check by check, from what the control plane
 * recorded (the sweeper's verdict and cloud status, the agent's lease and node report). Pure: the
 * clock is passed in. A value older than its check's freshness window is reported as unknown, with
 * the last value and when it was observed — never as if it were current.
 */
import type { HealthState } from './health';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';
export type HostCheckName =
  'verdict' | 'cloud' | 'lease' | 'node_running' | 'node_healthy' | 'node_bootstrapped';

export interface HostCheck {
  name: HostCheckName;
  status: CheckStatus;
  /** What is known now; null when it is not (never observed, unknown to the agent, or too old). */
  value: string | null;
  /** When `value` is null: the last value observed, if there was one. */
  lastKnown: string | null;
  /** When `value` (or `lastKnown`) was observed (ms); null when never. */
  observedAt: number | null;
  /** Past this age (ms) the observation no longer counts as current; null: not an observation. */
  staleAfterMs: number | null;
  /** One sentence for a human. */
  detail: string;
}

export interface HostCheckFacts {
  health: HealthState;
  /** Null until the sweeper has judged the host once. */
  healthReason: string | null;
  healthSince: number | null;
  cloudStatus: string | null;
  cloudHealth: string | null;
  /** When the sweeper last wrote a cloud observation for this host. */
  cloudObservedAt: number | null;
  leaseExpiresAt: number | null;
  /** When the agent last renewed (and reported its node). */
  lastReportAt: number | null;
  lastReport: {
    running?: unknown;
    healthy?: unknown;
    bootstrapped?: unknown;
    error?: unknown;
  } | null;
}

/** The last completed sweep: when it started, and whether every cloud status call in it answered. */
export interface SweepFacts {
  at: number;
  cloudComplete: boolean;
}

export interface HostCheckSettings {
  sweepIntervalMs: number;
  renewIntervalMs: number;
}

/** Sweeper observations count as current for three sweeps (at least 15 s). */
export const sweepStaleAfterMs = (s: HostCheckSettings) => Math.max(3 * s.sweepIntervalMs, 15_000);
/**
 * A node report is current until the sweeper itself would call the agent silent — at least 10 s, so
 * that a page polling every few seconds does not flicker to unknown between answers.
 */
export const reportStaleAfterMs = (s: HostCheckSettings) =>
  Math.max(2.5 * s.renewIntervalMs, 10_000);

const secs = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

function observed(
  name: HostCheckName,
  value: string | null,
  at: number | null,
  staleAfterMs: number,
  now: number,
  judge: (value: string) => { status: CheckStatus; detail: string },
  never: string,
): HostCheck {
  if (value === null || at === null || now - at > staleAfterMs) {
    return {
      name,
      status: 'unknown',
      value: null,
      lastKnown: value,
      observedAt: at,
      staleAfterMs,
      detail:
        value === null || at === null
          ? never
          : `no observation for ${secs(now - at)}; last seen: ${value}`,
    };
  }
  return { name, value, lastKnown: null, observedAt: at, staleAfterMs, ...judge(value) };
}

const boolValue = (v: unknown): string | null => (v === true ? 'yes' : v === false ? 'no' : null);

/**
 * The checks for one host. `sweep` is the last completed health sweep (null: never recorded): a host
 * the sweeper has judged before that sweep was judged again in it, and so was its cloud status when
 * every cloud call of that sweep answered.
 */
export function hostChecks(
  f: HostCheckFacts,
  sweep: SweepFacts | null,
  now: number,
  s: HostCheckSettings,
): HostCheck[] {
  const sweepStale = sweepStaleAfterMs(s);
  const reportStale = reportStaleAfterMs(s);

  // The verdict: re-judged every sweep once the sweeper has judged the host (its reason is set).
  const judged = f.healthReason !== null;
  const verdictAt = !judged
    ? null
    : sweep && sweep.at >= (f.healthSince ?? 0)
      ? sweep.at
      : f.healthSince;
  const verdict = observed(
    'verdict',
    judged ? f.health : null,
    verdictAt,
    sweepStale,
    now,
    (v) => ({
      status:
        v === 'healthy'
          ? 'pass'
          : v === 'suspect'
            ? 'warn'
            : v === 'unhealthy'
              ? 'fail'
              : 'unknown',
      detail: f.healthReason ?? '',
    }),
    judged ? 'the verdict carries no date' : 'the health loop has not judged this host yet',
  );

  // The cloud: a complete sweep after the last recorded observation saw the same status again.
  const cloudValue =
    f.cloudStatus === null
      ? null
      : f.cloudHealth
        ? `${f.cloudStatus} (${f.cloudHealth})`
        : f.cloudStatus;
  const cloudAt =
    f.cloudObservedAt === null
      ? null
      : sweep && sweep.cloudComplete && sweep.at >= f.cloudObservedAt
        ? sweep.at
        : f.cloudObservedAt;
  const cloud = observed(
    'cloud',
    cloudAt === null ? null : cloudValue,
    cloudAt,
    sweepStale,
    now,
    () => {
      const st = f.cloudStatus ?? '';
      if (st === 'Stopped' || st === 'Stopping' || st === 'Deleted')
        return { status: 'fail', detail: `the cloud reports the instance ${st}` };
      if ((f.cloudHealth ?? '').toLowerCase() === 'impaired')
        return { status: 'fail', detail: 'the cloud reports the instance Impaired' };
      if (st === 'Running') return { status: 'pass', detail: 'the instance is running' };
      return { status: 'warn', detail: `the instance is ${st}` };
    },
    'the cloud has not been asked about this instance yet',
  );

  // The lease is the control plane's own record, dated by the last renewal. A held lease stops
  // counting as current when it would run out without another renewal.
  const lease: HostCheck =
    f.leaseExpiresAt === null
      ? {
          name: 'lease',
          status: 'unknown',
          value: null,
          lastKnown: null,
          observedAt: f.lastReportAt,
          staleAfterMs: null,
          detail: 'the agent has not taken a lease yet',
        }
      : f.leaseExpiresAt > now
        ? {
            name: 'lease',
            status: 'pass',
            value: 'held',
            lastKnown: null,
            observedAt: f.lastReportAt,
            staleAfterMs:
              f.lastReportAt === null ? null : Math.max(0, f.leaseExpiresAt - f.lastReportAt),
            detail:
              f.lastReportAt === null
                ? 'held by the agent'
                : `renewed by the agent; it runs out ${secs(f.leaseExpiresAt - f.lastReportAt)} after each renewal`,
          }
        : {
            name: 'lease',
            status: 'fail',
            value: 'expired',
            lastKnown: null,
            observedAt: f.lastReportAt,
            staleAfterMs: null,
            detail: 'expired: the agent stopped renewing it',
          };

  // The node, as the agent last reported it. A field the agent does not know is unknown, not "no".
  const r = f.lastReport;
  const error = typeof r?.error === 'string' && r.error ? `: ${r.error}` : '';
  const node = (
    name: HostCheckName,
    raw: unknown,
    yes: string,
    no: { status: CheckStatus; detail: string },
    agentUnknown: string,
  ): HostCheck => {
    if (r === null || f.lastReportAt === null)
      return observed(
        name,
        null,
        null,
        reportStale,
        now,
        () => no,
        'the agent has not reported yet',
      );
    const v = boolValue(raw);
    if (v === null) {
      return {
        name,
        status: 'unknown',
        value: null,
        lastKnown: null,
        observedAt: f.lastReportAt,
        staleAfterMs: reportStale,
        detail: agentUnknown,
      };
    }
    return observed(
      name,
      v,
      f.lastReportAt,
      reportStale,
      now,
      (x) => (x === 'yes' ? { status: 'pass', detail: yes } : no),
      'the agent has not reported yet',
    );
  };
  return [
    verdict,
    cloud,
    lease,
    node(
      'node_running',
      r?.running,
      'avalanchego is running',
      { status: 'fail', detail: `avalanchego is not running${error}` },
      'the agent does not know whether avalanchego runs',
    ),
    node(
      'node_healthy',
      r?.healthy,
      'the node reports healthy',
      { status: 'fail', detail: `the node reports unhealthy${error}` },
      'the node has not answered its health check',
    ),
    node(
      'node_bootstrapped',
      r?.bootstrapped,
      'the node has bootstrapped',
      { status: 'warn', detail: 'the node is still bootstrapping' },
      'the node has not said whether it has bootstrapped',
    ),
  ];
}
