import fc from 'fast-check';
import { canGrantKeys, keysRetryAfterMs } from './fencing';
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

const CFG: FencingModelConfig = {
  hosts: 3,
  ttlMs: 45_000,
  renewMs: 10_000,
  keysTimeoutMs: 5_000,
  retryAfterMs: 2_000,
  skewMarginMs: 10_000,
  maxDrift: 0.01,
  stopMs: 5_000,
};
// Margin ≥ TTL·drift/(1−drift) + stop time: 45 s · 1 % ≈ 455 ms, + 5 s.

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
    const naive = { ...CFG, onlyImmediatePredecessor: true };
    const r = fc.check(
      fc.property(
        scenario(naive),
        ([rates, actions, net]) => runFencingModel(naive, rates, actions, net).violation === null,
      ),
      { numRuns: 20_000, seed: 7 },
    );
    expect(r.failed).toBe(true);
  });

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
    expect(r).toEqual({ violation: null, starts: 2 });
  });
});
