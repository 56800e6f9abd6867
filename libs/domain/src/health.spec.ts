import {
  aggregateZone,
  type BlindnessInput,
  cloudEvidence,
  cloudShowsStopped,
  type CloudObservation,
  controlPlaneBlindUntil,
  controlPlaneSuspect,
  decideRemediation,
  evaluateHealth,
  zoneOutageZones,
  type HealthSettings,
  type HealthState,
  type HostFacts,
  type RemediationCandidate,
  type RemediationContext,
  type RemediationSettings,
  type ZoneAssessment,
  type ZonePrevious,
  type ZoneSettings,
  type ZoneStatus,
} from './health';

/** The injected clock: every fact below is placed relative to this instant, never to Date.now(). */
const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const ago = (ms: number) => NOW - ms;
const ahead = (ms: number) => NOW + ms;

describe(controlPlaneBlindUntil.name, () => {
  const base: BlindnessInput = {
    now: NOW,
    previousSweepAt: ago(5_000),
    sweepIntervalMs: 5_000,
    renewIntervalMs: 10_000,
    leaseTtlMs: 45_000,
    leasedHosts: 10,
    newestRenewalAt: ago(1_000),
    minHosts: 3,
    previousBlindUntil: null,
  };
  it.each<[string, Partial<BlindnessInput>, number | null, RegExp | null]>([
    ['sweeps on time, renewals arriving', {}, null, null],
    ['the first sweep ever', { previousSweepAt: null }, null, null],
    [
      'a gap in the sweeps (worker frozen 60 s)',
      { previousSweepAt: ago(60_000) },
      ahead(45_000),
      /did not run for 60 s/,
    ],
    ['a late sweep inside the gap tolerance', { previousSweepAt: ago(15_000) }, null, null],
    [
      'no renewal from anywhere (API away)',
      { newestRenewalAt: ago(30_000) },
      ahead(45_000),
      /no renewal arrived from any of 10 hosts for 30 s/,
    ],
    [
      'silence of one or two hosts says nothing',
      { leasedHosts: 2, newestRenewalAt: ago(30_000) },
      null,
      null,
    ],
    [
      'back: agents get the rest of the lease interval',
      { previousBlindUntil: ahead(20_000) },
      ahead(20_000),
      /coming back/,
    ],
    ['back for a whole lease interval: judged again', { previousBlindUntil: ago(1) }, null, null],
    [
      'still silent: the window rolls on',
      { newestRenewalAt: ago(30_000), previousBlindUntil: ahead(5_000) },
      ahead(45_000),
      /no renewal/,
    ],
  ])('%s', (_label, over, blindUntil, reason) => {
    const r = controlPlaneBlindUntil({ ...base, ...over });
    expect(r.blindUntil).toBe(blindUntil);
    if (reason) expect(r.reason).toMatch(reason);
    else expect(r.reason).toBeNull();
  });
});

describe(cloudEvidence.name, () => {
  it.each<[string, CloudObservation, string | null]>([
    ['gone', 'missing', 'the instance no longer exists'],
    ['not asked (call failed)', null, null],
    ['Running, Ok', { status: 'Running', health: 'Ok', events: [] }, null],
    ['Starting', { status: 'Starting', health: 'Initializing', events: [] }, null],
    [
      'Stopped',
      { status: 'Stopped', health: 'Ok', events: [] },
      'ECS reports the instance Stopped',
    ],
    [
      'Stopping',
      { status: 'Stopping', health: 'Ok', events: [] },
      'ECS reports the instance Stopping',
    ],
    [
      'Impaired with a system event',
      { status: 'Running', health: 'Impaired', events: [{ type: 'SystemFailure.Reboot' }] },
      'ECS reports the instance Impaired (SystemFailure.Reboot)',
    ],
    [
      'Impaired, no event',
      { status: 'Running', health: 'impaired', events: [] },
      'ECS reports the instance Impaired',
    ],
  ])('should read %s', (_w, cloud, want) => {
    expect(cloudEvidence(cloud)).toBe(want);
  });
});

describe(cloudShowsStopped.name, () => {
  it.each<[string, CloudObservation, boolean]>([
    ['gone (not by our delete: the sweeper sees only hosts not deleted)', 'missing', true],
    ['Stopped', { status: 'Stopped', health: 'NotApplicable', events: [] }, true],
    [
      'Stopped by a power loss, Impaired',
      { status: 'Stopped', health: 'Impaired', events: [] },
      true,
    ],
    // A stop call accepted but not yet done: the guest may still run.
    ['Stopping', { status: 'Stopping', health: 'NotApplicable', events: [] }, false],
    // A dead host under a Running instance is evidence for failover, not proof the node is off.
    ['Running but Impaired', { status: 'Running', health: 'Impaired', events: [] }, false],
    ['Running', { status: 'Running', health: 'OK', events: [] }, false],
    ['not asked (the call failed)', null, false],
  ])('should read %s as %s', (_w, cloud, want) => {
    expect(cloudShowsStopped(cloud)).toBe(want);
  });
});

describe(evaluateHealth.name, () => {
  const settings: HealthSettings = { renewIntervalMs: 10_000, startupTimeoutMs: 600_000 };
  const running: CloudObservation = { status: 'Running', health: 'OK', events: [] };
  /** A registered host that renewed 5 s ago with a 45 s lease and a healthy, bootstrapped node. */
  const fresh: HostFacts = {
    role: 'assigned',
    createdAt: ago(3_600_000),
    registeredAt: ago(3_500_000),
    leaseExpiresAt: ahead(40_000),
    lastReportAt: ago(5_000),
    lastReport: { running: true, healthy: true, bootstrapped: true },
  };
  const unregistered: HostFacts = {
    ...fresh,
    registeredAt: null,
    leaseExpiresAt: null,
    lastReportAt: null,
    lastReport: null,
  };
  const nodeReport = (r: Partial<NonNullable<HostFacts['lastReport']>>): HostFacts => ({
    ...fresh,
    lastReport: { running: true, healthy: true, bootstrapped: true, ...r },
  });

  it.each<[string, HostFacts, CloudObservation, HealthState, string | RegExp]>([
    // The cloud's word comes first: it outranks a fresh lease and a missing registration.
    ['a vanished instance', fresh, 'missing', 'unhealthy', 'the instance no longer exists'],
    ['a vanished unregistered instance', unregistered, 'missing', 'unhealthy', /no longer exists/],
    [
      'a Stopped instance',
      fresh,
      { status: 'Stopped', health: 'NotApplicable', events: [] },
      'unhealthy',
      'ECS reports the instance Stopped',
    ],
    [
      'a Stopping instance',
      fresh,
      { status: 'Stopping', health: 'OK', events: [] },
      'unhealthy',
      'ECS reports the instance Stopping',
    ],
    [
      'an Impaired instance, naming its first system event',
      fresh,
      {
        status: 'Running',
        health: 'Impaired',
        events: [{ type: 'SystemFailure.Reboot' }, { type: 'SystemMaintenance.Reboot' }],
      },
      'unhealthy',
      'ECS reports the instance Impaired (SystemFailure.Reboot)',
    ],
    [
      'an Impaired instance without events',
      fresh,
      { status: 'Running', health: 'Impaired', events: [] },
      'unhealthy',
      'ECS reports the instance Impaired',
    ],
    [
      'an impaired instance spelled in lower case',
      fresh,
      { status: 'Running', health: 'impaired', events: [] },
      'unhealthy',
      'ECS reports the instance Impaired',
    ],
    [
      'a Stopped unregistered instance',
      unregistered,
      { status: 'Stopped', health: 'NotApplicable', events: [] },
      'unhealthy',
      /Stopped/,
    ],
    // Non-fatal cloud states fall through to the lease.
    [
      'a Warning instance with a fresh lease',
      fresh,
      { status: 'Running', health: 'Warning', events: [] },
      'healthy',
      'lease fresh, instance running',
    ],
    [
      'a Starting instance with a fresh lease',
      fresh,
      { status: 'Starting', health: 'Initializing', events: [] },
      'healthy',
      'lease fresh, instance running',
    ],
    [
      'a fresh lease and a Running instance',
      fresh,
      running,
      'healthy',
      'lease fresh, instance running',
    ],
    [
      'a fresh lease when the cloud call failed',
      fresh,
      null,
      'healthy',
      'lease fresh; cloud status unknown this sweep',
    ],
  ])('should judge %s', (_what, host, cloud, state, reason) => {
    const v = evaluateHealth(host, cloud, NOW, settings);
    expect(v.state).toBe(state);
    if (typeof reason === 'string') expect(v.reason).toBe(reason);
    else expect(v.reason).toMatch(reason);
  });

  it.each<[string, number, HealthState, string]>([
    ['just launched', 0, 'unknown', 'starting: the agent has not registered yet'],
    [
      'at the startup timeout exactly',
      600_000,
      'unknown',
      'starting: the agent has not registered yet',
    ],
    [
      '1 ms past the startup timeout',
      600_001,
      'unhealthy',
      'the agent has not registered 600 s after launch',
    ],
    [
      'long past the startup timeout',
      900_000,
      'unhealthy',
      'the agent has not registered 900 s after launch',
    ],
  ])('should judge an unregistered host %s', (_what, age, state, reason) => {
    for (const cloud of [running, null]) {
      expect(
        evaluateHealth({ ...unregistered, createdAt: ago(age) }, cloud, NOW, settings),
      ).toEqual({
        state,
        reason,
      });
    }
  });

  it.each<[string, number, HealthState, string]>([
    ['just registered', 1_000, 'unknown', 'starting: the agent has not taken its first lease yet'],
    [
      'at the startup timeout exactly',
      600_000,
      'unknown',
      'starting: the agent has not taken its first lease yet',
    ],
    [
      '1 ms past the startup timeout',
      600_001,
      'unhealthy',
      'the agent has not taken its first lease 600 s after launch',
    ],
  ])(
    'should not call a registered host without a lease healthy (%s)',
    (_what, age, state, reason) => {
      const host: HostFacts = {
        ...unregistered,
        createdAt: ago(age),
        registeredAt: ago(Math.min(age, 1_000)),
      };
      expect(evaluateHealth(host, running, NOW, settings)).toEqual({ state, reason });
    },
  );

  it.each<[string, number, HealthState, string]>([
    ['1 ms before expiry', ahead(1), 'healthy', 'lease fresh, instance running'],
    ['exactly at expiry', NOW, 'unhealthy', 'lease expired 0 s ago: the agent is silent'],
    ['1 ms after expiry', ago(1), 'unhealthy', 'lease expired 0 s ago: the agent is silent'],
    ['30 s after expiry', ago(30_000), 'unhealthy', 'lease expired 30 s ago: the agent is silent'],
  ])('should judge a lease %s', (_what, leaseExpiresAt, state, reason) => {
    // lastReportAt stays recent so that only the lease decides.
    expect(evaluateHealth({ ...fresh, leaseExpiresAt }, running, NOW, settings)).toEqual({
      state,
      reason,
    });
  });

  it('should call an expired lease unhealthy even when the cloud call failed', () => {
    expect(evaluateHealth({ ...fresh, leaseExpiresAt: ago(1) }, null, NOW, settings).state).toBe(
      'unhealthy',
    );
  });

  it.each<[string, number, HealthState, string]>([
    ['a report 10 s old', 10_000, 'healthy', 'lease fresh, instance running'],
    ['a report 2.5 renewals old exactly', 25_000, 'healthy', 'lease fresh, instance running'],
    ['a report 1 ms past 2.5 renewals', 25_001, 'suspect', 'no lease renewal for 25 s'],
    ['a report 40 s old', 40_000, 'suspect', 'no lease renewal for 40 s'],
  ])('should judge %s under a still-valid lease', (_what, silentFor, state, reason) => {
    const host = { ...fresh, lastReportAt: ago(silentFor), leaseExpiresAt: ahead(1_000) };
    expect(evaluateHealth(host, running, NOW, settings)).toEqual({ state, reason });
  });

  it.each<[string, HostFacts, HealthState]>([
    ['a bootstrapped node reporting unhealthy', nodeReport({ healthy: false }), 'suspect'],
    [
      'a bootstrapping node reporting unhealthy',
      nodeReport({ healthy: false, bootstrapped: false }),
      'healthy',
    ],
    [
      'a node with unknown bootstrap reporting unhealthy',
      nodeReport({ healthy: false, bootstrapped: null }),
      'healthy',
    ],
    ['a node with unknown health', nodeReport({ healthy: null }), 'healthy'],
    [
      'a stopped node reporting unhealthy',
      nodeReport({ running: false, healthy: false }),
      'healthy',
    ],
    [
      'a standby whose node reports unhealthy',
      { ...nodeReport({ healthy: false }), role: 'standby' },
      'healthy',
    ],
    ['a host that has no report', { ...fresh, lastReport: null }, 'healthy'],
  ])('should judge %s', (_what, host, state) => {
    const v = evaluateHealth(host, running, NOW, settings);
    expect(v.state).toBe(state);
    if (state === 'suspect') expect(v.reason).toBe('the node reports unhealthy');
  });

  it('should rank a silent agent above the node report', () => {
    const host = { ...nodeReport({ healthy: false }), lastReportAt: ago(30_000) };
    expect(evaluateHealth(host, running, NOW, settings).reason).toBe('no lease renewal for 30 s');
  });

  it.each<[string, HostFacts, CloudObservation, HealthState, string | RegExp]>([
    [
      'an expired lease',
      { ...fresh, leaseExpiresAt: ago(30_000), lastReportAt: ago(75_000) },
      running,
      'unknown',
      "no renewal while Snowline's control plane was away; waiting 20 s more for the agent",
    ],
    [
      'a silent agent under a valid lease',
      { ...fresh, leaseExpiresAt: ahead(1_000), lastReportAt: ago(40_000) },
      running,
      'unknown',
      /control plane was away/,
    ],
    ['a fresh lease', fresh, running, 'healthy', 'lease fresh, instance running'],
    // Positive evidence from the cloud is judged even while Snowline could not hear the agents.
    [
      'a vanished instance',
      { ...fresh, leaseExpiresAt: ago(30_000) },
      'missing',
      'unhealthy',
      /no longer exists/,
    ],
    [
      'a Stopped instance',
      { ...fresh, leaseExpiresAt: ago(30_000) },
      { status: 'Stopped', health: 'NotApplicable', events: [] },
      'unhealthy',
      /Stopped/,
    ],
  ])('should not judge leases while Snowline was away: %s', (_what, host, cloud, state, reason) => {
    const v = evaluateHealth(host, cloud, NOW, { ...settings, blindUntil: ahead(20_000) });
    expect(v.state).toBe(state);
    expect(v.reason).toMatch(reason);
  });

  it('should judge leases again once the window has passed', () => {
    const host = { ...fresh, leaseExpiresAt: ago(30_000) };
    expect(evaluateHealth(host, running, NOW, { ...settings, blindUntil: NOW }).state).toBe(
      'unhealthy',
    );
  });

  it('should move with the injected clock, not the wall clock', () => {
    const later = NOW + 41_000;
    expect(evaluateHealth(fresh, running, NOW, settings).state).toBe('healthy');
    expect(evaluateHealth(fresh, running, later, settings)).toEqual({
      state: 'unhealthy',
      reason: 'lease expired 1 s ago: the agent is silent',
    });
  });
});

describe(aggregateZone.name, () => {
  const settings: ZoneSettings = { unhealthyThreshold: 0.55, minHosts: 3, recoverySweeps: 3 };
  const many = (n: number, v: HealthState): HealthState[] => Array<HealthState>(n).fill(v);
  const mix = (counts: Partial<Record<HealthState, number>>): HealthState[] =>
    (Object.entries(counts) as [HealthState, number][]).flatMap(([v, n]) => many(n, v));

  it.each<[string, HealthState[], ZoneStatus, number, string | null]>([
    ['no hosts', [], 'healthy', 0, null],
    ['all healthy', mix({ healthy: 5 }), 'healthy', 0, null],
    ['50 % unhealthy', mix({ unhealthy: 10, healthy: 10 }), 'healthy', 10, null],
    ['54 % unhealthy', mix({ unhealthy: 54, healthy: 46 }), 'healthy', 54, null],
    [
      '55 % unhealthy exactly',
      mix({ unhealthy: 11, healthy: 9 }),
      'impaired',
      11,
      '11 of 20 hosts unhealthy (55 %)',
    ],
    [
      '55 of 100 unhealthy',
      mix({ unhealthy: 55, healthy: 45 }),
      'impaired',
      55,
      '55 of 100 hosts unhealthy (55 %)',
    ],
    // Below minHosts a zone whose hosts are down is amber (never green), dark only on cloud evidence.
    [
      '2 of 2 unhealthy (fewer than minHosts)',
      mix({ unhealthy: 2 }),
      'impaired',
      2,
      '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '1 of 1 unhealthy',
      mix({ unhealthy: 1 }),
      'impaired',
      1,
      '1 of 1 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '1 of 2 unhealthy (below the threshold)',
      mix({ unhealthy: 1, healthy: 1 }),
      'healthy',
      1,
      null,
    ],
    [
      '2 of 3 unhealthy (minHosts exactly)',
      mix({ unhealthy: 2, healthy: 1 }),
      'impaired',
      2,
      '2 of 3 hosts unhealthy (67 %)',
    ],
    ['3 of 3 unhealthy', mix({ unhealthy: 3 }), 'dark', 3, '3 of 3 hosts unhealthy (100 %)'],
    // Suspect hosts are judged but not unhealthy: they dilute the ratio and keep a zone from dark.
    [
      '3 unhealthy, 1 suspect',
      mix({ unhealthy: 3, suspect: 1 }),
      'impaired',
      3,
      '3 of 4 hosts unhealthy (75 %)',
    ],
    ['2 unhealthy, 3 suspect', mix({ unhealthy: 2, suspect: 3 }), 'healthy', 2, null],
    // Unknown verdicts count neither way: not in the numerator, not in the denominator, not in minHosts.
    [
      '2 unhealthy, 1 healthy, 4 unknown',
      mix({ unhealthy: 2, healthy: 1, unknown: 4 }),
      'impaired',
      2,
      '2 of 3 hosts unhealthy (67 %)',
    ],
    [
      '2 unhealthy, 5 unknown (too few judged)',
      mix({ unhealthy: 2, unknown: 5 }),
      'impaired',
      2,
      '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '3 unhealthy, 2 unknown',
      mix({ unhealthy: 3, unknown: 2 }),
      'dark',
      3,
      '3 of 3 hosts unhealthy (100 %)',
    ],
    ['only unknown', mix({ unknown: 6 }), 'healthy', 0, null],
  ])('should judge a zone with %s', (_what, verdicts, status, unhealthy, reason) => {
    const a = aggregateZone('cn-hongkong-c', verdicts, undefined, settings);
    expect(a).toEqual<ZoneAssessment>({
      zone: 'cn-hongkong-c',
      status,
      placementAllowed: status === 'healthy',
      hosts: verdicts.length,
      unhealthy,
      healthySweeps: 0,
      reason,
      judged: verdicts.filter((v) => v !== 'unknown').length >= settings.minHosts,
    });
  });

  it.each<[number, number]>([
    [0.5, 3],
    [1, 5],
  ])(
    'should honour threshold %d with minHosts %d at the boundary',
    (unhealthyThreshold, minHosts) => {
      const s = { ...settings, unhealthyThreshold, minHosts };
      const atBoundary = Math.ceil(unhealthyThreshold * minHosts);
      const verdicts = mix({ unhealthy: atBoundary, healthy: minHosts - atBoundary });
      expect(aggregateZone('z', verdicts, undefined, s)).toMatchObject({ judged: true });
      expect(aggregateZone('z', verdicts, undefined, s).status).not.toBe('healthy');
      // One host fewer: too few to judge by ratio, so amber at most, never dark on silence alone.
      expect(aggregateZone('z', verdicts.slice(1), undefined, s)).toMatchObject({
        status: 'impaired',
        judged: false,
      });
    },
  );

  it.each<[ZoneStatus]>([['impaired'], ['dark']])(
    'should keep a %s zone closed until recoverySweeps healthy sweeps in a row',
    (from) => {
      let prev: ZonePrevious = { status: from, healthySweeps: 0 };
      const seen: [ZoneStatus, boolean, number, string | null][] = [];
      for (let sweep = 0; sweep < 4; sweep++) {
        const a = aggregateZone('z', mix({ healthy: 5 }), prev, settings);
        seen.push([a.status, a.placementAllowed, a.healthySweeps, a.reason]);
        prev = a;
      }
      expect(seen).toEqual([
        [from, false, 1, 'recovering: healthy for 1 of 3 sweeps'],
        [from, false, 2, 'recovering: healthy for 2 of 3 sweeps'],
        ['healthy', true, 0, null],
        ['healthy', true, 0, null],
      ]);
    },
  );

  it('should restart the recovery count when the zone relapses', () => {
    const recovering: ZonePrevious = { status: 'impaired', healthySweeps: 2 };
    const relapse = aggregateZone('z', mix({ unhealthy: 3, healthy: 1 }), recovering, settings);
    expect(relapse).toMatchObject({
      status: 'impaired',
      healthySweeps: 0,
      placementAllowed: false,
    });
    const next = aggregateZone('z', mix({ healthy: 4 }), relapse, settings);
    expect(next).toMatchObject({ status: 'impaired', healthySweeps: 1 });
  });

  it('should move an impaired zone to dark and back to impaired as verdicts change', () => {
    const dark = aggregateZone(
      'z',
      mix({ unhealthy: 4 }),
      { status: 'impaired', healthySweeps: 0 },
      settings,
    );
    expect(dark.status).toBe('dark');
    expect(aggregateZone('z', mix({ unhealthy: 3, healthy: 1 }), dark, settings).status).toBe(
      'impaired',
    );
  });

  it.each<[number]>([[0], [1]])(
    'should recover at once with recoverySweeps %d',
    (recoverySweeps) => {
      const a = aggregateZone(
        'z',
        mix({ healthy: 3 }),
        { status: 'dark', healthySweeps: 0 },
        {
          ...settings,
          recoverySweeps,
        },
      );
      expect(a).toMatchObject({ status: 'healthy', placementAllowed: true, healthySweeps: 0 });
    },
  );

  it('should not count sweeps for a zone that is already healthy', () => {
    const a = aggregateZone(
      'z',
      mix({ healthy: 3 }),
      { status: 'healthy', healthySweeps: 0 },
      settings,
    );
    expect(a).toMatchObject({ status: 'healthy', healthySweeps: 0, reason: null });
  });

  // Quick-start size: what the cloud says decides dark; silence alone only makes a zone amber.
  const down = (n: number, cloudConfirmed: boolean) =>
    Array.from({ length: n }, () => ({ state: 'unhealthy' as const, cloudConfirmed }));
  const up = (n: number) =>
    Array.from({ length: n }, () => ({ state: 'healthy' as const, cloudConfirmed: false }));
  it.each<
    [string, { state: HealthState; cloudConfirmed: boolean }[], ZoneStatus, boolean, string | null]
  >([
    [
      '1 host, silent',
      down(1, false),
      'impaired',
      false,
      '1 of 1 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '1 host, Stopped by the cloud',
      down(1, true),
      'dark',
      false,
      "1 of 1 hosts down by the cloud's own word — too few hosts to judge the zone by ratio",
    ],
    [
      '2 hosts, both silent',
      down(2, false),
      'impaired',
      false,
      '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '2 hosts, one Stopped, one silent',
      [...down(1, true), ...down(1, false)],
      'impaired',
      false,
      '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    ],
    [
      '2 hosts, both Stopped (zone power loss)',
      down(2, true),
      'dark',
      false,
      "2 of 2 hosts down by the cloud's own word — too few hosts to judge the zone by ratio",
    ],
    ['2 hosts, one Stopped, one healthy', [...down(1, true), ...up(1)], 'healthy', false, null],
    [
      '2 hosts Stopped, 1 starting (unknown)',
      [...down(2, true), { state: 'unknown', cloudConfirmed: false }],
      'impaired',
      false,
      '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    ],
    ['3 hosts, all silent', down(3, false), 'dark', true, '3 of 3 hosts unhealthy (100 %)'],
    ['3 hosts, all Stopped', down(3, true), 'dark', true, '3 of 3 hosts unhealthy (100 %)'],
    [
      '3 hosts, 2 silent',
      [...down(2, false), ...up(1)],
      'impaired',
      true,
      '2 of 3 hosts unhealthy (67 %)',
    ],
    ['50 hosts, all Stopped', down(50, true), 'dark', true, '50 of 50 hosts unhealthy (100 %)'],
    [
      '50 hosts, 30 silent',
      [...down(30, false), ...up(20)],
      'impaired',
      true,
      '30 of 50 hosts unhealthy (60 %)',
    ],
    ['50 hosts, 20 Stopped', [...down(20, true), ...up(30)], 'healthy', true, null],
  ])('should judge %s', (_what, verdicts, status, judged, reason) => {
    const a = aggregateZone('cn-hongkong-c', verdicts, undefined, settings);
    expect(a).toMatchObject({ status, judged, reason, placementAllowed: status === 'healthy' });
  });

  it('should keep a small zone closed until it recovers, like any other', () => {
    const amber = aggregateZone('z', down(2, false), undefined, settings);
    const next = aggregateZone('z', up(2), amber, settings);
    expect(next).toMatchObject({ status: 'impaired', placementAllowed: false, healthySweeps: 1 });
  });
});

describe(controlPlaneSuspect.name, () => {
  const settings: ZoneSettings = { unhealthyThreshold: 0.55, minHosts: 3, recoverySweeps: 3 };
  const zone = (status: ZoneStatus, hosts = 10): ZoneAssessment => ({
    zone: `z-${status}-${hosts}`,
    status,
    placementAllowed: status === 'healthy',
    hosts,
    unhealthy: status === 'healthy' ? 0 : hosts,
    healthySweeps: 0,
    reason: null,
    judged: hosts >= settings.minHosts,
  });

  it.each<[string, ZoneAssessment[], boolean]>([
    ['no zones', [], false],
    ['one dark zone alone', [zone('dark')], false],
    ['every zone dark', [zone('dark'), zone('dark'), zone('dark')], true],
    ['every zone impaired or dark', [zone('impaired'), zone('dark')], true],
    ['one healthy zone among dark ones', [zone('dark'), zone('dark'), zone('healthy')], false],
    ['a real one-zone outage', [zone('dark'), zone('healthy'), zone('healthy')], false],
    // Zones too small to judge are left out of both sides of the question.
    [
      'dark zones plus a healthy zone below minHosts',
      [zone('dark'), zone('dark'), zone('healthy', 2)],
      true,
    ],
    ['one judged dark zone plus a small dark zone', [zone('dark'), zone('dark', 2)], false],
    ['two dark zones of exactly minHosts', [zone('dark', 3), zone('dark', 3)], true],
    // A 1-host zone whose one instance failed is no reason to suspect Snowline itself.
    ['two 1-host zones, both dark', [zone('dark', 1), zone('dark', 1)], false],
    ['a small amber zone beside a judged dark one', [zone('dark'), zone('impaired', 2)], false],
    [
      'zones with enough hosts but too few verdicts',
      [
        { ...zone('impaired', 5), judged: false },
        { ...zone('dark', 5), judged: false },
      ],
      false,
    ],
  ])('should answer for %s', (_what, zones, expected) => {
    expect(controlPlaneSuspect(zones, settings)).toBe(expected);
  });

  it('should stay suspicious while a zone is only recovering', () => {
    const prev: ZonePrevious = { status: 'dark', healthySweeps: 0 };
    const recovering = aggregateZone('z-a', Array<HealthState>(5).fill('healthy'), prev, settings);
    expect(recovering.status).toBe('dark');
    expect(controlPlaneSuspect([recovering, zone('dark')], settings)).toBe(true);
  });
});

describe(zoneOutageZones.name, () => {
  const settings: ZoneSettings = { unhealthyThreshold: 0.55, minHosts: 3, recoverySweeps: 3 };
  const zone = (name: string, status: ZoneStatus, hosts = 10): ZoneAssessment => ({
    zone: name,
    status,
    placementAllowed: status === 'healthy',
    hosts,
    unhealthy: status === 'healthy' ? 0 : hosts,
    healthySweeps: 0,
    reason: null,
    judged: hosts >= settings.minHosts,
  });

  it.each<[string, ZoneAssessment[], string[]]>([
    [
      'one dark zone, two healthy',
      [zone('b', 'dark'), zone('c', 'healthy'), zone('d', 'healthy')],
      ['b'],
    ],
    [
      'a dark and an impaired zone, one healthy',
      [zone('b', 'dark'), zone('c', 'impaired'), zone('d', 'healthy')],
      ['b', 'c'],
    ],
    [
      'every zone dark (suspect myself)',
      [zone('b', 'dark'), zone('c', 'dark'), zone('d', 'dark')],
      [],
    ],
    ['all healthy', [zone('b', 'healthy'), zone('c', 'healthy')], []],
    ['a dark zone too small to judge', [zone('b', 'dark', 2), zone('c', 'healthy')], []],
    ['an amber zone too small to judge', [zone('b', 'impaired', 1), zone('c', 'healthy')], []],
    [
      'a dark zone whose hosts mostly have no verdict',
      [{ ...zone('b', 'dark'), judged: false }, zone('c', 'healthy')],
      [],
    ],
    [
      'a dark zone and only a too-small healthy one',
      [zone('b', 'dark'), zone('c', 'healthy', 2)],
      [],
    ],
  ])('should name the outage zones for %s', (_what, zones, expected) => {
    expect([...zoneOutageZones(zones, settings)].sort()).toEqual(expected);
  });
});

describe(decideRemediation.name, () => {
  const settings: RemediationSettings = {
    graceMs: 30_000,
    maxConcurrent: 2,
    ratePerMinute: 3,
    maxUnhealthyFraction: 0.5,
    dailyBudget: 3,
  };
  const ctx = (over: Partial<RemediationContext> = {}): RemediationContext => ({
    now: NOW,
    running: 0,
    recentStarts: [],
    movesToday: new Map(),
    unhealthyAssigned: 1,
    totalAssigned: 30,
    suspectSelf: false,
    ...over,
  });
  const cand = (validatorId: string, unhealthyFor: number): RemediationCandidate => ({
    validatorId,
    unhealthySince: ago(unhealthyFor),
  });
  const heldReasons = (d: ReturnType<typeof decideRemediation>) =>
    Object.fromEntries(d.held.map((h) => [h.validatorId, h.reason]));

  it('should start nothing when there is nothing to do', () => {
    expect(decideRemediation([], ctx(), settings)).toEqual({ start: [], held: [] });
  });

  it('should hold everything, even past its grace, when suspecting itself', () => {
    const d = decideRemediation(
      [cand('v1', 600_000), cand('v2', 60_000)],
      ctx({ suspectSelf: true }),
      settings,
    );
    expect(d.start).toEqual([]);
    expect(d.held).toEqual([
      {
        validatorId: 'v1',
        reason: 'every zone looks down: suspecting the control plane, not remediating',
      },
      {
        validatorId: 'v2',
        reason: 'every zone looks down: suspecting the control plane, not remediating',
      },
    ]);
  });

  it('should give the self-suspicion reason over the max-unhealthy reason', () => {
    const d = decideRemediation(
      [cand('v1', 60_000)],
      ctx({ suspectSelf: true, unhealthyAssigned: 30, totalAssigned: 30 }),
      settings,
    );
    expect(d.held[0]?.reason).toMatch(/suspecting the control plane/);
  });

  it.each<[string, Partial<RemediationContext>]>([
    ['suspecting itself', { suspectSelf: true }],
    ['above the max-unhealthy cap', { unhealthyAssigned: 30, totalAssigned: 30 }],
    ['both', { suspectSelf: true, unhealthyAssigned: 30, totalAssigned: 30 }],
  ])('should replace what the cloud confirms down even when %s', (_w, over) => {
    const d = decideRemediation(
      [{ ...cand('gone', 60_000), cloudConfirmed: true }, cand('silent', 60_000)],
      ctx(over),
      settings,
    );
    expect(d.start).toEqual(['gone']);
    expect(Object.keys(heldReasons(d))).toEqual(['silent']);
  });

  it.each<[string, RemediationCandidate, Partial<RemediationContext>, string]>([
    [
      'inside its grace',
      { ...cand('v1', 1_000), cloudConfirmed: true },
      {},
      'within the grace period',
    ],
    [
      'past its daily budget',
      { ...cand('v1', 60_000), cloudConfirmed: true },
      { movesToday: new Map([['v1', 3]]) },
      'moved 3 times in 24 h: flapping budget spent',
    ],
    [
      'with every slot taken',
      { ...cand('v1', 60_000), cloudConfirmed: true },
      { running: 2, suspectSelf: true },
      'max concurrent failovers reached',
    ],
    [
      'past the rate',
      { ...cand('v1', 60_000), cloudConfirmed: true },
      { recentStarts: [ago(1_000), ago(2_000), ago(3_000)], unhealthyAssigned: 30 },
      'failover rate limit reached',
    ],
  ])('should still hold a cloud-confirmed candidate %s', (_w, c, over, reason) => {
    const d = decideRemediation([c], ctx(over), settings);
    expect(d.start).toEqual([]);
    expect(heldReasons(d)).toEqual({ v1: reason });
  });

  it('should replace every cloud-confirmed validator of a fleet whose instances are all gone, at the concurrency cap', () => {
    const all = Array.from({ length: 5 }, (_, i) => ({
      ...cand(`v${i}`, 60_000 + i),
      cloudConfirmed: true,
    }));
    const d = decideRemediation(
      all,
      ctx({ unhealthyAssigned: 0, totalAssigned: 5, suspectSelf: true }),
      settings,
    );
    expect(d.start).toHaveLength(2);
    expect(d.held.map((h) => h.reason)).toEqual([
      'max concurrent failovers reached',
      'max concurrent failovers reached',
      'max concurrent failovers reached',
    ]);
  });

  it.each<[string, number, number, boolean]>([
    ['1 of 1 with a population floor of 3: go', 1, 1, false],
    ['2 of 2 with a population floor of 3: go', 2, 2, false],
    ['3 of 3 at the population floor: hold', 3, 3, true],
  ])(
    'should judge the max-unhealthy ratio only from capMinHosts hosts up (%s)',
    (_w, u, t, held) => {
      const d = decideRemediation(
        [cand('v1', 60_000)],
        ctx({ unhealthyAssigned: u, totalAssigned: t }),
        { ...settings, capMinHosts: 3 },
      );
      expect(d.start).toEqual(held ? [] : ['v1']);
    },
  );

  it.each<[string, number, number, boolean]>([
    ['16 of 30 (above 50 %): hold', 16, 30, true],
    ['15 of 30 (50 % exactly): go', 15, 30, false],
    ['14 of 30: go', 14, 30, false],
    ['every host: hold', 30, 30, true],
    ['no assigned hosts at all: go', 0, 0, false],
  ])(
    'should apply the max-unhealthy cap to %s',
    (_what, unhealthyAssigned, totalAssigned, held) => {
      const d = decideRemediation(
        [cand('v1', 60_000)],
        ctx({ unhealthyAssigned, totalAssigned }),
        settings,
      );
      if (held) {
        expect(d).toEqual({
          start: [],
          held: [
            {
              validatorId: 'v1',
              reason: `${unhealthyAssigned} of ${totalAssigned} hosts unhealthy, above the max-unhealthy cap of 50 %`,
            },
          ],
        });
      } else {
        expect(d).toEqual({ start: ['v1'], held: [] });
      }
    },
  );

  it.each<[string, number, boolean]>([
    ['just turned unhealthy: hold', 0, false],
    ['1 ms inside the grace period: hold', 29_999, false],
    ['exactly at the end of the grace period: start', 30_000, true],
    ['well past the grace period: start', 300_000, true],
  ])('should wait out the grace period (%s)', (_what, unhealthyFor, starts) => {
    const d = decideRemediation([cand('v1', unhealthyFor)], ctx(), settings);
    expect(d.start).toEqual(starts ? ['v1'] : []);
    if (!starts) expect(heldReasons(d)).toEqual({ v1: 'within the grace period' });
  });

  it.each<[number | undefined, boolean]>([
    [undefined, true],
    [0, true],
    [2, true],
    [3, false],
    [7, false],
  ])('should spend a daily budget of 3 (%s moves today)', (moves, starts) => {
    const movesToday = new Map(moves === undefined ? [] : [['v1', moves]]);
    const d = decideRemediation([cand('v1', 60_000)], ctx({ movesToday }), settings);
    expect(d.start).toEqual(starts ? ['v1'] : []);
    if (!starts)
      expect(heldReasons(d)).toEqual({ v1: 'moved 3 times in 24 h: flapping budget spent' });
  });

  it.each<[number, string[]]>([
    [0, ['v1', 'v2']],
    [1, ['v1']],
    [2, []],
    [5, []],
  ])('should start at most maxConcurrent minus %d running', (runningNow, start) => {
    const d = decideRemediation(
      [cand('v1', 90_000), cand('v2', 80_000), cand('v3', 70_000)],
      ctx({ running: runningNow }),
      { ...settings, ratePerMinute: 100 },
    );
    expect(d.start).toEqual(start);
    expect(d.held).toHaveLength(3 - start.length);
    for (const h of d.held) expect(h.reason).toBe('max concurrent failovers reached');
  });

  it.each<[string, number[], number]>([
    ['no recent starts', [], 3],
    ['one start 10 s ago', [ago(10_000)], 2],
    ['three starts in the minute', [ago(1_000), ago(20_000), ago(59_999)], 0],
    ['a start exactly a minute ago (outside)', [ago(60_000)], 3],
    ['old starts outside the minute', [ago(60_001), ago(120_000), ago(3_600_000)], 3],
    ['a mix of old and recent starts', [ago(5_000), ago(61_000), ago(59_000), ago(90_000)], 1],
    ['more recent starts than the rate', [ago(1), ago(2), ago(3), ago(4), ago(5)], 0],
  ])('should count rate tokens with %s', (_what, recentStarts, tokens) => {
    const candidates = ['a', 'b', 'c', 'd', 'e'].map((id, i) => cand(id, 100_000 - i));
    const d = decideRemediation(candidates, ctx({ recentStarts }), {
      ...settings,
      maxConcurrent: 10,
    });
    expect(d.start).toEqual(['a', 'b', 'c', 'd', 'e'].slice(0, tokens));
    for (const h of d.held) expect(h.reason).toBe('failover rate limit reached');
  });

  it.each<[string, Partial<RemediationSettings>, number]>([
    ['half a failover a minute', { ratePerMinute: 0.5, maxConcurrent: 10 }, 0],
    ['two and a half failovers a minute', { ratePerMinute: 2.5, maxConcurrent: 10 }, 2],
    ['two and a half concurrent failovers', { maxConcurrent: 2.5, ratePerMinute: 100 }, 2],
  ])('should never start more than whole tokens or slots allow (%s)', (_what, over, starts) => {
    const candidates = ['a', 'b', 'c', 'd', 'e'].map((id, i) => cand(id, 100_000 - i));
    expect(decideRemediation(candidates, ctx(), { ...settings, ...over }).start).toHaveLength(
      starts,
    );
  });

  it('should start the longest-unhealthy first, whatever the input order', () => {
    const d = decideRemediation(
      [cand('newest', 40_000), cand('oldest', 500_000), cand('middle', 100_000)],
      ctx(),
      settings,
    );
    expect(d.start).toEqual(['oldest', 'middle']);
    expect(d.held).toEqual([{ validatorId: 'newest', reason: 'max concurrent failovers reached' }]);
  });

  it('should keep input order among candidates unhealthy since the same instant', () => {
    const d = decideRemediation(
      [cand('x', 60_000), cand('y', 60_000), cand('z', 60_000)],
      ctx(),
      settings,
    );
    expect(d.start).toEqual(['x', 'y']);
  });

  it('should not let held candidates use up slots or tokens', () => {
    const d = decideRemediation(
      [cand('in-grace', 1_000), cand('flapper', 900_000), cand('v1', 400_000), cand('v2', 300_000)],
      ctx({ movesToday: new Map([['flapper', 3]]) }),
      settings,
    );
    expect(d.start).toEqual(['v1', 'v2']);
    expect(heldReasons(d)).toEqual({
      flapper: 'moved 3 times in 24 h: flapping budget spent',
      'in-grace': 'within the grace period',
    });
  });

  it('should account for every candidate exactly once', () => {
    const candidates = Array.from({ length: 12 }, (_, i) => cand(`v${i}`, i * 10_000));
    const d = decideRemediation(
      candidates,
      ctx({ running: 1, recentStarts: [ago(30_000)], movesToday: new Map([['v11', 3]]) }),
      { ...settings, maxConcurrent: 4 },
    );
    const seen = [...d.start, ...d.held.map((h) => h.validatorId)].sort();
    expect(seen).toEqual(candidates.map((c) => c.validatorId).sort());
    // 3 free slots but 2 tokens; v11 has spent its budget, v0–v2 are within their grace.
    expect(d.start).toEqual(['v10', 'v9']);
    expect(heldReasons(d)).toMatchObject({
      v11: 'moved 3 times in 24 h: flapping budget spent',
      v8: 'failover rate limit reached',
      v3: 'failover rate limit reached',
      v2: 'within the grace period',
    });
  });

  it("should start every move of one zone's outage at once, outside the concurrency and rate caps", () => {
    const zoneLoss = Array.from({ length: 50 }, (_, i) => ({
      ...cand(`z${i}`, 60_000 + i),
      zoneOutage: true,
    }));
    const d = decideRemediation(
      [...zoneLoss, cand('elsewhere-1', 90_000), cand('elsewhere-2', 95_000)],
      ctx({ running: 1, recentStarts: [ago(10_000)], unhealthyAssigned: 52, totalAssigned: 150 }),
      settings,
    );
    expect(d.start.filter((id) => id.startsWith('z'))).toHaveLength(50);
    // The storm caps still hold moves without that evidence: 1 slot left of 2, 2 tokens of 3.
    expect(d.start.filter((id) => id.startsWith('elsewhere'))).toEqual(['elsewhere-2']);
  });

  it('should still hold a zone outage under the fleet-wide holds, grace and the daily budget', () => {
    const z = (id: string, unhealthyFor = 60_000) => ({
      ...cand(id, unhealthyFor),
      zoneOutage: true,
    });
    expect(decideRemediation([z('a')], ctx({ suspectSelf: true }), settings).start).toEqual([]);
    expect(
      decideRemediation([z('a')], ctx({ unhealthyAssigned: 20, totalAssigned: 30 }), settings)
        .start,
    ).toEqual([]);
    expect(decideRemediation([z('a', 1_000)], ctx(), settings).start).toEqual([]);
    expect(
      decideRemediation([z('a')], ctx({ movesToday: new Map([['a', 3]]) }), settings).start,
    ).toEqual([]);
  });

  describe('the order of moves (issue 22 point 5)', () => {
    const H = 3_600_000;
    const staked = (id: string, budgetLeftMs: number | null, unhealthyFor = 60_000) => ({
      ...cand(id, unhealthyFor),
      staking: {
        status:
          budgetLeftMs === null
            ? ('unknown' as const)
            : budgetLeftMs < 0
              ? ('lost' as const)
              : ('ok' as const),
        budgetLeftMs,
      },
    });

    it.each<[string, RemediationCandidate[], string[]]>([
      [
        'least downtime budget left first, whoever went down first',
        [staked('roomy', 40 * H, 600_000), staked('tight', 1 * H, 60_000), staked('mid', 4 * H)],
        ['tight', 'mid', 'roomy'],
      ],
      [
        'a known budget before an unknown one, an unknown before a lost one',
        [
          staked('lost', -H),
          cand('never-seen', 600_000),
          staked('stale', null),
          staked('known', 30 * H),
        ],
        ['known', 'never-seen', 'stale', 'lost'],
      ],
      [
        'no staking known at all: the longest unhealthy first, as before',
        [cand('b', 60_000), cand('a', 90_000), cand('c', 70_000)],
        ['a', 'c', 'b'],
      ],
    ])('should start a zone outage’s moves in order: %s', (_what, candidates, order) => {
      // A zone outage passes the storm caps: every move starts, and each takes the next standby.
      const d = decideRemediation(
        candidates.map((c) => ({ ...c, zoneOutage: true })),
        ctx(),
        settings,
      );
      expect(d.start).toEqual(order);
    });

    it('should give the scarce slots to the least budget left', () => {
      // maxConcurrent 2: two of three start.
      const d = decideRemediation(
        [staked('a', 10 * H, 600_000), staked('b', 2 * H), staked('c', 3 * H)],
        ctx(),
        settings,
      );
      expect(d.start).toEqual(['b', 'c']);
      expect(heldReasons(d)).toEqual({ a: 'max concurrent failovers reached' });
    });

    it('should never let the order bypass grace, the daily budget or the fleet-wide holds', () => {
      const tight = staked('tight', 0, 1_000);
      expect(decideRemediation([tight], ctx(), settings).start).toEqual([]);
      expect(
        decideRemediation([staked('t', 0)], ctx({ movesToday: new Map([['t', 3]]) }), settings)
          .start,
      ).toEqual([]);
      expect(
        decideRemediation([staked('t', 0)], ctx({ suspectSelf: true }), settings).start,
      ).toEqual([]);
    });
  });

  it('should not mutate its inputs', () => {
    const candidates = [cand('b', 40_000), cand('a', 90_000)];
    const recentStarts = [ago(1_000)];
    decideRemediation(candidates, ctx({ recentStarts }), settings);
    expect(candidates.map((c) => c.validatorId)).toEqual(['b', 'a']);
    expect(recentStarts).toEqual([ago(1_000)]);
  });
});
