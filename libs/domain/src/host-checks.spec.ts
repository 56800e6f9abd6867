import {
  hostChecks,
  type CheckStatus,
  type HostCheck,
  type HostCheckFacts,
  type HostCheckName,
  type SweepFacts,
} from './host-checks';

/** The injected clock: every fact is placed relative to this instant. */
const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const ago = (ms: number) => NOW - ms;
const settings = { sweepIntervalMs: 5_000, renewIntervalMs: 10_000 };

/** A host judged healthy, running in the cloud, renewing, with a healthy bootstrapped node. */
const fresh: HostCheckFacts = {
  health: 'healthy',
  healthReason: 'lease fresh, instance running',
  healthSince: ago(3_600_000),
  cloudStatus: 'Running',
  cloudHealth: 'Ok',
  cloudObservedAt: ago(3_600_000),
  leaseExpiresAt: NOW + 40_000,
  lastReportAt: ago(4_000),
  lastReport: { running: true, healthy: true, bootstrapped: true },
};
const sweptNow: SweepFacts = { at: ago(2_000), cloudComplete: true };

const pick = (checks: HostCheck[], name: HostCheckName) => checks.find((c) => c.name === name)!;

describe(hostChecks.name, () => {
  it('should pass every check of a healthy host, dated by the last sweep and the last renewal', () => {
    const checks = hostChecks(fresh, sweptNow, NOW, settings);
    expect(checks.map((c) => [c.name, c.status, c.value])).toEqual([
      ['verdict', 'pass', 'healthy'],
      ['cloud', 'pass', 'Running (Ok)'],
      ['lease', 'pass', 'held'],
      ['node_running', 'pass', 'yes'],
      ['node_healthy', 'pass', 'yes'],
      ['node_bootstrapped', 'pass', 'yes'],
    ]);
    expect(pick(checks, 'verdict').observedAt).toBe(sweptNow.at);
    expect(pick(checks, 'cloud').observedAt).toBe(sweptNow.at);
    expect(pick(checks, 'node_healthy').observedAt).toBe(fresh.lastReportAt);
    expect(pick(checks, 'lease').detail).toBe(
      'renewed by the agent; it runs out 44 s after each renewal',
    );
    // Past the lease's end without a new answer, "held" is no longer known.
    expect(pick(checks, 'lease').staleAfterMs).toBe(44_000);
  });

  it.each<
    [
      string,
      HostCheckFacts,
      SweepFacts | null,
      HostCheckName,
      CheckStatus,
      string | null,
      string | null,
      number | null,
    ]
  >([
    // name, facts, sweep, check, status, value, lastKnown, observedAt
    [
      'a host never judged',
      { ...fresh, health: 'unknown', healthReason: null, healthSince: null },
      sweptNow,
      'verdict',
      'unknown',
      null,
      null,
      null,
    ],
    [
      'a verdict of unknown (starting)',
      {
        ...fresh,
        health: 'unknown',
        healthReason: 'starting: the agent has not registered yet',
        healthSince: null,
      },
      sweptNow,
      'verdict',
      'unknown',
      'unknown',
      null,
      sweptNow.at,
    ],
    [
      'an unhealthy verdict',
      {
        ...fresh,
        health: 'unhealthy',
        healthReason: 'lease expired 30 s ago',
        healthSince: ago(10_000),
      },
      sweptNow,
      'verdict',
      'fail',
      'unhealthy',
      null,
      sweptNow.at,
    ],
    [
      'a suspect verdict',
      {
        ...fresh,
        health: 'suspect',
        healthReason: 'the node reports unhealthy',
        healthSince: ago(10_000),
      },
      sweptNow,
      'verdict',
      'warn',
      'suspect',
      null,
      sweptNow.at,
    ],
    // The health loop stopped: the last verdict is shown as the last known value, not as current.
    [
      'a verdict when no sweep ran for a minute',
      fresh,
      { at: ago(60_000), cloudComplete: true },
      'verdict',
      'unknown',
      null,
      'healthy',
      ago(60_000),
    ],
    [
      'a verdict with no sweep recorded',
      { ...fresh, healthSince: ago(5_000) },
      null,
      'verdict',
      'pass',
      'healthy',
      null,
      ago(5_000),
    ],
    // A sweep whose cloud calls failed says nothing about the cloud: the last recorded observation counts.
    [
      'the cloud after a failed cloud call',
      fresh,
      { at: ago(2_000), cloudComplete: false },
      'cloud',
      'unknown',
      null,
      'Running (Ok)',
      ago(3_600_000),
    ],
    [
      'the cloud recently changed, calls failing since',
      { ...fresh, cloudObservedAt: ago(6_000) },
      { at: ago(2_000), cloudComplete: false },
      'cloud',
      'pass',
      'Running (Ok)',
      null,
      ago(6_000),
    ],
    [
      'the cloud never asked (status set at launch)',
      { ...fresh, cloudStatus: 'Pending', cloudHealth: null, cloudObservedAt: null },
      sweptNow,
      'cloud',
      'unknown',
      null,
      null,
      null,
    ],
    [
      'a Stopped instance',
      { ...fresh, cloudStatus: 'Stopped', cloudHealth: 'NotApplicable' },
      sweptNow,
      'cloud',
      'fail',
      'Stopped (NotApplicable)',
      null,
      sweptNow.at,
    ],
    [
      'an Impaired instance',
      { ...fresh, cloudHealth: 'Impaired' },
      sweptNow,
      'cloud',
      'fail',
      'Running (Impaired)',
      null,
      sweptNow.at,
    ],
    [
      'a Starting instance',
      { ...fresh, cloudStatus: 'Starting', cloudHealth: null },
      sweptNow,
      'cloud',
      'warn',
      'Starting',
      null,
      sweptNow.at,
    ],
    [
      'no lease yet',
      { ...fresh, leaseExpiresAt: null, lastReportAt: null, lastReport: null },
      sweptNow,
      'lease',
      'unknown',
      null,
      null,
      null,
    ],
    [
      'an expired lease',
      { ...fresh, leaseExpiresAt: ago(20_000), lastReportAt: ago(65_000) },
      sweptNow,
      'lease',
      'fail',
      'expired',
      null,
      ago(65_000),
    ],
    // The agent went silent: its last report is the last known value, not the node's state now.
    [
      'a node report older than 2.5 renewals',
      { ...fresh, lastReportAt: ago(30_000) },
      sweptNow,
      'node_healthy',
      'unknown',
      null,
      'yes',
      ago(30_000),
    ],
    [
      'a node that does not know its health',
      { ...fresh, lastReport: { running: true, healthy: null, bootstrapped: null } },
      sweptNow,
      'node_healthy',
      'unknown',
      null,
      null,
      ago(4_000),
    ],
    [
      'a node reporting unhealthy',
      { ...fresh, lastReport: { running: true, healthy: false, bootstrapped: true } },
      sweptNow,
      'node_healthy',
      'fail',
      'no',
      null,
      ago(4_000),
    ],
    [
      'a node still bootstrapping',
      { ...fresh, lastReport: { running: true, healthy: false, bootstrapped: false } },
      sweptNow,
      'node_bootstrapped',
      'warn',
      'no',
      null,
      ago(4_000),
    ],
    [
      'a node that is not running',
      {
        ...fresh,
        lastReport: { running: false, healthy: null, bootstrapped: null, error: 'exit 1' },
      },
      sweptNow,
      'node_running',
      'fail',
      'no',
      null,
      ago(4_000),
    ],
    [
      'an agent that never reported',
      { ...fresh, lastReportAt: null, lastReport: null },
      sweptNow,
      'node_running',
      'unknown',
      null,
      null,
      null,
    ],
  ])('should judge %s', (_name, facts, sweep, check, status, value, lastKnown, observedAt) => {
    const c = pick(hostChecks(facts, sweep, NOW, settings), check);
    expect({
      status: c.status,
      value: c.value,
      lastKnown: c.lastKnown,
      observedAt: c.observedAt,
    }).toEqual({
      status,
      value,
      lastKnown,
      observedAt,
    });
    expect(c.detail.length).toBeGreaterThan(0);
  });

  it('should never answer a value without the time it was observed', () => {
    const variants: HostCheckFacts[] = [
      fresh,
      { ...fresh, healthSince: null },
      { ...fresh, cloudObservedAt: null },
      { ...fresh, lastReportAt: null, lastReport: null, leaseExpiresAt: null },
    ];
    for (const f of variants) {
      for (const sweep of [sweptNow, null, { at: ago(1_000), cloudComplete: false }]) {
        for (const c of hostChecks(f, sweep, NOW, settings)) {
          if (c.value !== null && c.name !== 'lease')
            expect({ c, at: c.observedAt }).not.toEqual({ c, at: null });
          if (c.value === null) expect(c.status).toBe('unknown');
        }
      }
    }
  });

  it('should say why a node is not running', () => {
    const c = pick(
      hostChecks(
        {
          ...fresh,
          lastReport: { running: false, healthy: null, bootstrapped: null, error: 'exit code 1' },
        },
        sweptNow,
        NOW,
        settings,
      ),
      'node_running',
    );
    expect(c.detail).toBe('avalanchego is not running: exit code 1');
  });
});
