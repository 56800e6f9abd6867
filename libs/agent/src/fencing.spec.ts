import fc from 'fast-check';
import { acknowledgesStop, canGrantKeys, keysRetryAfterMs } from './fencing';
import { FencingAction, FencingModelConfig, runFencingModel } from './fencing.model';

describe(canGrantKeys.name, () => {
  const base = {
    now: 100_000,
    previousLeaseExpiresAt: 80_000,
    skewMarginMs: 15_000,
    previousInstanceStopped: false,
  };
  it.each([
    ['lease expired + margin passed', base, true],
    ['exactly at expiry + margin', { ...base, now: 95_000 }, true],
    ['expired but within the margin', { ...base, now: 94_999 }, false],
    ['lease still live', { ...base, now: 70_000 }, false],
    [
      'lease live but instance confirmed stopped',
      { ...base, now: 70_000, previousInstanceStopped: true },
      true,
    ],
    ['no previous holder', { ...base, previousLeaseExpiresAt: null }, true],
    [
      'Dates work too',
      { ...base, now: new Date(95_000), previousLeaseExpiresAt: new Date(80_000) },
      true,
    ],
    ['invalid Date fails closed', { ...base, now: new Date(NaN) }, false],
    [
      'lease live but the agent acknowledged its stop',
      { ...base, now: 70_000, previousStopAcknowledged: true },
      true,
    ],
    [
      'lease live, no acknowledgment',
      { ...base, now: 70_000, previousStopAcknowledged: false },
      false,
    ],
  ])('%s → %s', (_label, input, expected) => {
    expect(canGrantKeys(input)).toBe(expected);
  });

  it('should refuse a negative or NaN margin', () => {
    expect(() => canGrantKeys({ ...base, skewMarginMs: -1 })).toThrow(RangeError);
    expect(() => canGrantKeys({ ...base, skewMarginMs: NaN })).toThrow(RangeError);
  });

  it('should tell a 425 how long to wait', () => {
    expect(keysRetryAfterMs({ ...base, now: 90_000 })).toBe(5_000);
    expect(keysRetryAfterMs(base)).toBe(0);
  });
});

describe(acknowledgesStop.name, () => {
  it.each([
    ['fenced, covers its last generation', { fenced: true, hostGeneration: 4, through: 4 }, true],
    ['fenced, covers more than its last', { fenced: true, hostGeneration: 4, through: 5 }, true],
    ['fenced, never held the identity', { fenced: true, hostGeneration: null, through: 0 }, true],
    [
      'fenced, stale ack of an older generation',
      { fenced: true, hostGeneration: 4, through: 3 },
      false,
    ],
    ['not fenced (it could be re-armed)', { fenced: false, hostGeneration: 4, through: 4 }, false],
    ['not an integer', { fenced: true, hostGeneration: 4, through: NaN }, false],
  ])('%s → %s', (_label, { fenced, hostGeneration, through }, expected) => {
    expect(acknowledgesStop({ fenced, hostGeneration, stoppedThroughGeneration: through })).toBe(
      expected,
    );
  });
});

const CFG: FencingModelConfig = {
  hosts: 5,
  ttlMs: 45_000,
  renewMs: 10_000,
  keysTimeoutMs: 5_000,
  retryAfterMs: 2_000,
  skewMarginMs: 10_000,
  maxDrift: 0.01,
  stopMs: 5_000,
};
// Margin ≥ TTL·drift/(1−drift) + stop time: 45 s · 1 % ≈ 455 ms, + 5 s.

/**
 * With the agent's stop budget the node is dead when its lease ends on the agent's clock, so the
 * margin only covers drift (≈ 455 ms here); cloud stops take effect 3 s after the call and are
 * reported 4 s after that.
 */
const BUDGET: FencingModelConfig = {
  ...CFG,
  skewMarginMs: 1_000,
  stopBudgetMs: 10_000,
  stopMs: 30_000, // a node that ignores SIGTERM: only the SIGKILL at the lease end stops it
  stopEffectMs: 3_000,
  stoppedReportLagMs: 4_000,
};

const actionArb = (hosts: number): fc.Arbitrary<FencingAction> => {
  const h = fc.integer({ min: 0, max: hosts - 1 });
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        k: fc.constant('advance' as const),
        dt: fc.integer({ min: 0, max: 40_000 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('partition' as const), h }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('heal' as const), h }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('kill' as const), h }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('revive' as const), h }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('failover' as const), to: h }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('confirmStopped' as const), h }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('cloudStop' as const), h }) },
    { weight: 1, arbitrary: fc.constant({ k: 'cpDown' as const }) },
    { weight: 1, arbitrary: fc.constant({ k: 'cpUp' as const }) },
  );
};

const scenario = (cfg: FencingModelConfig) =>
  fc.tuple(
    fc.array(fc.double({ min: 1 - cfg.maxDrift, max: 1 + cfg.maxDrift, noNaN: true }), {
      minLength: cfg.hosts,
      maxLength: cfg.hosts,
    }),
    fc.array(actionArb(cfg.hosts), { minLength: 1, maxLength: 60 }),
    fc.record({
      delays: fc.array(fc.integer({ min: 0, max: 8_000 }), { minLength: 1, maxLength: 30 }),
      dups: fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
    }),
  );

describe('fencing model (property)', () => {
  it('should never let two hosts run one identity (2,000 random runs)', () => {
    let totalStarts = 0;
    fc.assert(
      fc.property(scenario(CFG), ([rates, actions, net]) => {
        const r = runFencingModel(CFG, rates, actions, net);
        totalStarts += r.starts;
        return r.violation === null;
      }),
      { numRuns: 2_000 },
    );
    // The test must exercise real handovers, not vacuously pass with no node ever started.
    expect(totalStarts).toBeGreaterThan(500);
  });

  it('should never let two hosts run one identity with a stop budget and a drift-only margin', () => {
    let totalStarts = 0;
    fc.assert(
      fc.property(scenario(BUDGET), ([rates, actions, net]) => {
        const r = runFencingModel(BUDGET, rates, actions, net);
        totalStarts += r.starts;
        return r.violation === null;
      }),
      { numRuns: 2_000 },
    );
    expect(totalStarts).toBeGreaterThan(500);
  });

  it.each([
    ['the plain margin', { ...CFG, ackStops: true }],
    ['a stop budget and a drift-only margin', { ...BUDGET, ackStops: true }],
  ])(
    'should never let two hosts run one identity when fenced agents acknowledge stops (%s)',
    (_label, cfg) => {
      let totalStarts = 0;
      fc.assert(
        fc.property(scenario(cfg), ([rates, actions, net]) => {
          const r = runFencingModel(cfg, rates, actions, net);
          totalStarts += r.starts;
          return r.violation === null;
        }),
        { numRuns: 2_000 },
      );
      expect(totalStarts).toBeGreaterThan(500);
    },
  );

  it('should find a double run when the agent acknowledges at SIGTERM, before its node exited', () => {
    const early = { ...BUDGET, ackStops: true, ackAtSigterm: true };
    const r = fc.check(
      fc.property(
        scenario(early),
        ([rates, actions, net]) => runFencingModel(early, rates, actions, net).violation === null,
      ),
      { numRuns: 20_000, seed: 7 },
    );
    expect(r.failed).toBe(true);
  }, 30_000);

  it('should hand a planned move over on the acknowledgment, long before the lease runs out', () => {
    const moves: FencingAction[] = [
      { k: 'advance', dt: 15_000 }, // host 0 runs generation 0, its lease renewed at 0 s and 10 s
      { k: 'failover', to: 1 },
    ];
    const run = (cfg: FencingModelConfig) =>
      runFencingModel(cfg, [1, 1, 1], [...moves, { k: 'advance', dt: 15_000 }]);
    // Host 0 learns of the move at its 20 s renewal, stops (SIGKILL after 5 s) and acknowledges at
    // 25 s; host 1 gets the keys on its next try. Without the ack it waits for the lease (10 s + 45 s
    // TTL + 10 s margin = 65 s).
    expect(run({ ...CFG, ackStops: true })).toMatchObject({
      violation: null,
      starts: 2,
      generation: 1,
      holderRuns: true,
    });
    expect(run(CFG)).toMatchObject({ violation: null, starts: 1, holderRuns: false });
  });

  it('should find a double run when a sent stop call counts as a confirmed stop', () => {
    const trusting = { ...BUDGET, trustStopCall: true, stopEffectMs: 30_000 };
    const r = fc.check(
      fc.property(
        scenario(trusting),
        ([rates, actions, net]) =>
          runFencingModel(trusting, rates, actions, net).violation === null,
      ),
      { numRuns: 20_000, seed: 11 },
    );
    expect(r.failed).toBe(true);
  }, 30_000);

  it('should find a double run with a stop budget but no margin for drift', () => {
    // 5 % drift: an agent's slow clock ends its lease up to 2.25 s after the control plane's.
    const weak = { ...BUDGET, skewMarginMs: 0, maxDrift: 0.05, stopEffectMs: 60_000 };
    const r = fc.check(
      fc.property(
        scenario(weak),
        ([rates, actions, net]) => runFencingModel(weak, rates, actions, net).violation === null,
      ),
      { numRuns: 20_000, seed: 1 },
    );
    expect(r.failed).toBe(true);
  }, 30_000); // 20,000 runs: ~2 s alone, several times that on a loaded 2-core machine

  it('should find a double run when the margin does not cover the stop time (the test can fail)', () => {
    const weak = { ...CFG, skewMarginMs: 0 };
    const r = fc.check(
      fc.property(
        scenario(weak),
        ([rates, actions]) => runFencingModel(weak, rates, actions).violation === null,
      ),
      { numRuns: 5_000, seed: 42 },
    );
    expect(r.failed).toBe(true);
  });

  it('should find a double run when the control plane checks only the immediate predecessor', () => {
    // Four hosts: failovers go to standbys only, and a quick double move needs two of them.
    const naive = { ...CFG, hosts: 4, onlyImmediatePredecessor: true };
    const r = fc.check(
      fc.property(
        scenario(naive),
        ([rates, actions, net]) => runFencingModel(naive, rates, actions, net).violation === null,
      ),
      { numRuns: 20_000, seed: 42 },
    );
    expect(r.failed).toBe(true);
  }, 30_000);

  it('should hand over in the plain case: holder dies, cloud confirms, standby starts', () => {
    const r = runFencingModel(
      CFG,
      [1, 1, 1],
      [
        { k: 'advance', dt: 1_000 },
        { k: 'kill', h: 0 },
        { k: 'failover', to: 1 },
        { k: 'confirmStopped', h: 0 },
        { k: 'advance', dt: 20_000 },
      ],
    );
    expect(r).toMatchObject({ violation: null, starts: 2, generation: 1, holderRuns: true });
  });

  it('should bring the holder back after a control-plane outage longer than the TTL', () => {
    const r = runFencingModel(
      BUDGET,
      [1, 1.01, 0.99, 1, 1],
      [
        { k: 'advance', dt: 5_000 },
        { k: 'cpDown' },
        { k: 'advance', dt: 90_000 }, // twice the TTL: the holder self-fences
        { k: 'cpUp' },
        { k: 'advance', dt: 30_000 },
      ],
    );
    // Started, self-fenced, re-armed under a new generation, running again; nobody fenced for good.
    expect(r).toMatchObject({ violation: null, starts: 2, generation: 1, holderRuns: true });
    expect(r.fenced).toEqual([]);
  });

  it('should keep a holder running through an outage shorter than its lease', () => {
    const r = runFencingModel(
      BUDGET,
      [1, 1, 1, 1, 1],
      [
        { k: 'advance', dt: 5_000 },
        { k: 'cpDown' },
        { k: 'advance', dt: 20_000 },
        { k: 'cpUp' },
        { k: 'advance', dt: 30_000 },
      ],
    );
    expect(r).toMatchObject({ violation: null, starts: 1, generation: 0, holderRuns: true });
  });

  it('should wait for the cloud to report the stop, not for the stop call to return', () => {
    // The stop takes effect 15 s after the call and is reported 4 s after that.
    const slow = { ...BUDGET, stopEffectMs: 15_000 };
    const moves: FencingAction[] = [
      { k: 'advance', dt: 5_000 },
      { k: 'cloudStop', h: 0 },
      { k: 'failover', to: 1 },
    ];
    const run = (cfg: FencingModelConfig, dt: number) =>
      runFencingModel(cfg, [1, 1, 1, 1, 1], [...moves, { k: 'advance', dt }]);
    // Trusting the call: host 1 starts at its next renewal (10 s) while host 0 still runs.
    expect(run({ ...slow, trustStopCall: true }, 25_000).violation).not.toBeNull();
    // Trusting the report: host 1 waits for it (19 s after the call), long before host 0's lease
    // (renewed at 0 s and 10 s until fenced) would allow it.
    expect(run(slow, 12_000)).toMatchObject({ violation: null, holderRuns: false });
    expect(run(slow, 25_000)).toMatchObject({
      violation: null,
      starts: 2,
      generation: 1,
      holderRuns: true,
    });
  });
});
