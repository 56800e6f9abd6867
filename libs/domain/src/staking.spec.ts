import type { Network } from './validator-state';
import {
  assignStakingObservers,
  compareMoveUrgency,
  downtimeBudget,
  evaluateStaking,
  FUJI_HELICON_TIME,
  heliconActive,
  MAINNET_HELICON_TIME,
  stakeDurationLimits,
  stakingEvents,
  stakingRulesFor,
  uptimeRequirement,
  type MoveUrgency,
  type StakeWindow,
  type StakingConditions,
  type StakingObservation,
  type StakingSettings,
  type StakingView,
} from './staking';

const H = 3_600_000;
const D = 24 * H;

describe(uptimeRequirement.name, () => {
  it.each<[string, Network, number, number]>([
    ['mainnet, a day before Helicon', 'mainnet', MAINNET_HELICON_TIME - D, 0.8],
    ['mainnet, 1 ms before Helicon', 'mainnet', MAINNET_HELICON_TIME - 1, 0.8],
    ['mainnet, at Helicon', 'mainnet', MAINNET_HELICON_TIME, 0.9],
    ['mainnet, after Helicon', 'mainnet', MAINNET_HELICON_TIME + 30 * D, 0.9],
    ['fuji, 1 ms before Helicon', 'fuji', FUJI_HELICON_TIME - 1, 0.8],
    ['fuji, at Helicon', 'fuji', FUJI_HELICON_TIME, 0.9],
    ['fuji, after Helicon', 'fuji', FUJI_HELICON_TIME + D, 0.9],
    ['local (Helicon unscheduled)', 'local', MAINNET_HELICON_TIME + 365 * D, 0.8],
  ])('should require the right uptime: %s', (_what, network, start, expected) => {
    expect(uptimeRequirement(network, start)).toBe(expected);
  });
});

describe('Helicon activation: Fuji vs mainnet', () => {
  const between = Date.UTC(2026, 7, 15); // Fuji has it, mainnet not yet
  it.each<[string, Network, number, boolean, number]>([
    ['fuji between the two activations', 'fuji', between, true, 0.9],
    ['mainnet between the two activations', 'mainnet', between, false, 0.8],
    ['fuji before both', 'fuji', Date.UTC(2026, 0, 1), false, 0.8],
    ['mainnet after both', 'mainnet', Date.UTC(2026, 11, 1), true, 0.9],
  ])('should tell %s', (_what, network, at, active, requirement) => {
    expect(heliconActive(network, at)).toBe(active);
    expect(uptimeRequirement(network, at)).toBe(requirement);
  });

  it('should date Fuji before mainnet', () => {
    expect(FUJI_HELICON_TIME).toBe(Date.parse('2026-07-28T15:00:00Z'));
    expect(MAINNET_HELICON_TIME).toBe(Date.parse('2026-09-22T15:00:00Z'));
  });
});

describe(stakingRulesFor.name, () => {
  it('should date Helicon by the calendar, for the requirement and the durations alike', () => {
    const moved = Date.UTC(2026, 10, 1);
    const rules = stakingRulesFor([
      { network: 'mainnet', name: 'Helicon', activatesAt: moved },
      { network: 'mainnet', name: 'Granite', activatesAt: 0 },
    ]);
    expect(uptimeRequirement('mainnet', MAINNET_HELICON_TIME, rules)).toBe(0.8);
    expect(uptimeRequirement('mainnet', moved, rules)).toBe(0.9);
    expect(stakeDurationLimits('mainnet', moved - 1, rules).minMs).toBe(14 * D);
    expect(uptimeRequirement('fuji', FUJI_HELICON_TIME, rules)).toBe(0.9);
  });
});

describe(stakeDurationLimits.name, () => {
  it.each<[string, Network, number, number, number]>([
    ['mainnet before Helicon', 'mainnet', MAINNET_HELICON_TIME - 1, 14 * D, 365 * D],
    ['mainnet after Helicon (ACP-273)', 'mainnet', MAINNET_HELICON_TIME, 48 * H, 365 * D],
    ['fuji before Helicon', 'fuji', FUJI_HELICON_TIME - 1, 24 * H, 365 * D],
    ['fuji after Helicon (ACP-273)', 'fuji', FUJI_HELICON_TIME, 12 * H, 365 * D],
    ['local (Helicon unscheduled)', 'local', MAINNET_HELICON_TIME, 24 * H, 365 * D],
  ])('should give the min and max durations: %s', (_what, network, at, min, max) => {
    expect(stakeDurationLimits(network, at)).toEqual({ minMs: min, maxMs: max });
  });
});

describe(downtimeBudget.name, () => {
  const start = MAINNET_HELICON_TIME;
  it.each<[string, number, number, number, number, number, number, number, boolean]>([
    // what, duration, requirement, uptime, elapsed → budget, downtime, left, lost
    ['48 h at 90 %, never down', 48 * H, 0.9, 1, 10 * H, 4.8 * H, 0, 4.8 * H, false],
    [
      '48 h at 90 %, 90 % up after 24 h',
      48 * H,
      0.9,
      0.9,
      24 * H,
      4.8 * H,
      2.4 * H,
      2.4 * H,
      false,
    ],
    [
      '48 h at 90 %, 80 % up after 24 h: exactly spent',
      48 * H,
      0.9,
      0.8,
      24 * H,
      4.8 * H,
      4.8 * H,
      0,
      false,
    ],
    [
      '48 h at 90 %, 79 % up after 24 h: lost',
      48 * H,
      0.9,
      0.79,
      24 * H,
      4.8 * H,
      5.04 * H,
      -0.24 * H,
      true,
    ],
    [
      'the Hong Kong outage: 14 h down of a 48 h stake',
      48 * H,
      0.9,
      1 - 14 / 30,
      30 * H,
      4.8 * H,
      14 * H,
      -9.2 * H,
      true,
    ],
    [
      '14 days at 80 %, 14 h down',
      14 * D,
      0.8,
      1 - 14 / (7 * 24),
      7 * D,
      67.2 * H,
      14 * H,
      53.2 * H,
      false,
    ],
    ['before the start: nothing elapsed', 48 * H, 0.9, 0, -H, 4.8 * H, 0, 4.8 * H, false],
    [
      'past the end: counted to the end',
      12 * H,
      0.9,
      0.95,
      20 * H,
      1.2 * H,
      0.6 * H,
      0.6 * H,
      false,
    ],
  ])(
    'should compute %s',
    (_what, duration, requirement, uptime, elapsed, budget, downtime, left, lost) => {
      const b = downtimeBudget({
        startMs: start,
        endMs: start + duration,
        requirement,
        uptime,
        atMs: start + elapsed,
      });
      expect(b.durationMs).toBe(duration);
      expect(b.budgetMs).toBeCloseTo(budget, -1);
      expect(b.downtimeMs).toBeCloseTo(downtime, -1);
      expect(b.budgetLeftMs).toBeCloseTo(left, -1);
      expect(b.lost).toBe(lost);
    },
  );
});

const SETTINGS: StakingSettings = {
  staleAfterMs: 180_000,
  atRiskFraction: 0.5,
  periodEndingMs: 24 * H,
};
const NOW = 1_900_000_000_000;
const START = MAINNET_HELICON_TIME + D;
const STAKE: StakeWindow = {
  txId: 'tx1',
  startMs: START,
  endMs: START + 48 * H,
  weight: '2000000000000',
  autoRenew: false,
};
const obs = (over: Partial<StakingObservation> = {}): StakingObservation => ({
  kind: 'peer',
  observedAt: NOW - 10_000,
  pchainTime: START + 24 * H,
  registered: true,
  stake: STAKE,
  uptime: 1,
  ...over,
});

describe(evaluateStaking.name, () => {
  it.each<[string, StakingObservation[], Partial<StakingView>]>([
    ['never observed', [], { status: 'unknown', lastStatus: null, ageMs: null }],
    [
      'one fresh peer view',
      [obs({ observedAt: NOW - 10_000 })],
      { status: 'ok', ageMs: 10_000, registered: true, uptimeSource: 'peer', observers: 1 },
    ],
    [
      'just inside the stale limit',
      [obs({ observedAt: NOW - 180_000 })],
      { status: 'ok', ageMs: 180_000 },
    ],
    [
      'just past the stale limit: unknown with its age and what it said',
      [obs({ observedAt: NOW - 180_001, uptime: 0.75 })],
      { status: 'unknown', lastStatus: 'lost', ageMs: 180_001, registered: true },
    ],
    [
      'stale ones ignored when a fresh one exists',
      [obs({ observedAt: NOW - 600_000, uptime: 0.5 }), obs({ observedAt: NOW - 5_000 })],
      { status: 'ok', ageMs: 5_000, observers: 1 },
    ],
    [
      'not registered',
      [obs({ registered: false, stake: null, uptime: null })],
      { status: 'not_registered', registered: false, budget: null },
    ],
    [
      'stale "not registered" is unknown',
      [obs({ registered: false, stake: null, uptime: null, observedAt: NOW - 200_000 })],
      { status: 'unknown', lastStatus: 'not_registered', ageMs: 200_000 },
    ],
    [
      'registered, uptime unmeasured (L1)',
      [obs({ uptime: null })],
      { status: 'registered', registered: true, budget: null },
    ],
  ])('should judge %s', (_what, observations, expected) => {
    expect(evaluateStaking('mainnet', observations, NOW, SETTINGS)).toMatchObject(expected);
  });

  it.each<[string, number, StakingView['status']]>([
    // 48 h at 90 %: budget 4.8 h; after 24 h, uptime u leaves 4.8 h − (1 − u)·24 h.
    ['budget untouched', 1, 'ok'],
    ['just over half the budget left', 0.9001, 'ok'],
    ['less than half left (at risk)', 0.89, 'at_risk'],
    ['exactly spent: still rewarded, at risk', 0.8, 'at_risk'],
    ['spent (lost)', 0.7999, 'lost'],
  ])('should rate %s', (_what, uptime, status) => {
    expect(evaluateStaking('mainnet', [obs({ uptime })], NOW, SETTINGS).status).toBe(status);
  });

  it('should prefer peers to the validator’s own view, and take the median downtime', () => {
    const v = evaluateStaking(
      'mainnet',
      [
        obs({ kind: 'self', uptime: 1 }),
        obs({ uptime: 0.95 }),
        obs({ uptime: 0.97 }),
        obs({ uptime: 0.5 }),
      ],
      NOW,
      SETTINGS,
    );
    expect(v.uptimeSource).toBe('peer');
    expect(v.observers).toBe(3);
    expect(v.uptime).toBe(0.95);
    expect(v.budget!.downtimeMs).toBe(Math.round(0.05 * 24 * H));
  });

  it('should take the larger middle downtime of an even count', () => {
    const v = evaluateStaking(
      'mainnet',
      [obs({ uptime: 0.99 }), obs({ uptime: 0.95 })],
      NOW,
      SETTINGS,
    );
    expect(v.uptime).toBe(0.95);
  });

  it('should fall back to the validator’s own view without peers', () => {
    const v = evaluateStaking('mainnet', [obs({ kind: 'self', uptime: 0.99 })], NOW, SETTINGS);
    expect(v).toMatchObject({ status: 'ok', uptimeSource: 'self', uptime: 0.99 });
  });

  it('should compute in the observers’ P-chain time, not the control plane’s', () => {
    const early = evaluateStaking(
      'mainnet',
      [obs({ uptime: 0.9, pchainTime: START + 12 * H })],
      NOW,
      SETTINGS,
    );
    const late = evaluateStaking(
      'mainnet',
      [obs({ uptime: 0.9, pchainTime: START + 36 * H })],
      NOW,
      SETTINGS,
    );
    expect(early.budget!.downtimeMs).toBe(1.2 * H);
    expect(late.budget!.downtimeMs).toBe(Math.round(3.6 * H));
    expect(late.pchainTime).toBe(START + 36 * H);
  });

  it('should follow the newest stake when a new period starts', () => {
    const next = { ...STAKE, txId: 'tx2', startMs: STAKE.endMs, endMs: STAKE.endMs + 48 * H };
    const v = evaluateStaking(
      'mainnet',
      [obs({ uptime: 0.5 }), obs({ stake: next, pchainTime: next.startMs + H, uptime: 1 })],
      NOW,
      SETTINGS,
    );
    expect(v).toMatchObject({ status: 'ok', stake: next, observers: 1 });
  });

  it('should apply the requirement of the stake’s start: 80 % before Helicon', () => {
    const old = {
      ...STAKE,
      startMs: MAINNET_HELICON_TIME - D,
      endMs: MAINNET_HELICON_TIME + 13 * D,
    };
    const v = evaluateStaking(
      'mainnet',
      [obs({ stake: old, pchainTime: old.startMs + 7 * D, uptime: 0.85 })],
      NOW,
      SETTINGS,
    );
    expect(v).toMatchObject({ requirement: 0.8, status: 'ok' });
  });

  it.each<[string, number, number, boolean]>([
    ['48 h stake, 25 h left', 48 * H, 23 * H, false],
    ['48 h stake, 12 h left (a quarter)', 48 * H, 36 * H, true],
    ['14 d stake, 23 h left', 14 * D, 14 * D - 23 * H, true],
    ['14 d stake, 25 h left', 14 * D, 14 * D - 25 * H, false],
  ])('should say whether the period is ending: %s', (_what, duration, elapsed, ending) => {
    const stake = { ...STAKE, endMs: STAKE.startMs + duration };
    const v = evaluateStaking(
      'mainnet',
      [obs({ stake, pchainTime: START + elapsed })],
      NOW,
      SETTINGS,
    );
    expect(v.periodEnding).toBe(ending);
  });
});

describe(stakingEvents.name, () => {
  const none: StakingConditions = { periodKey: null, raised: [] };
  const view = (uptime: number, over: Partial<StakingObservation> = {}) =>
    evaluateStaking('mainnet', [obs({ uptime, ...over })], NOW, SETTINGS);

  it('should raise each condition once per period', () => {
    let c = none;
    const seen: string[][] = [];
    for (const v of [view(1), view(1), view(0.89), view(0.89), view(0.7), view(0.7)]) {
      const r = stakingEvents(c, v);
      seen.push(r.events);
      c = r.next;
    }
    expect(seen).toEqual([
      ['staking.registered'],
      [],
      ['staking.uptime_at_risk'],
      [],
      ['staking.reward_lost'],
      [],
    ]);
  });

  it('should raise at risk with lost when it jumps straight to lost', () => {
    expect(stakingEvents(none, view(0.5)).events).toEqual([
      'staking.registered',
      'staking.uptime_at_risk',
      'staking.reward_lost',
    ]);
  });

  it('should raise nothing on an unknown or unregistered view, and keep what was raised', () => {
    const first = stakingEvents(none, view(0.89));
    const stale = view(0.5, { observedAt: NOW - 600_000 });
    expect(stale.status).toBe('unknown');
    expect(stakingEvents(first.next, stale)).toEqual({ events: [], next: first.next });
    const gone = evaluateStaking(
      'mainnet',
      [obs({ registered: false, stake: null })],
      NOW,
      SETTINGS,
    );
    expect(stakingEvents(first.next, gone)).toEqual({ events: [], next: first.next });
  });

  it('should arm every condition again for a new period', () => {
    const first = stakingEvents(none, view(0.5));
    const next = { ...STAKE, txId: 'tx2', startMs: STAKE.endMs, endMs: STAKE.endMs + 48 * H };
    const r = stakingEvents(first.next, view(1, { stake: next, pchainTime: next.startMs + H }));
    expect(r.events).toEqual(['staking.registered']);
    expect(r.next).toEqual({ periodKey: `tx2@${next.startMs}`, raised: ['staking.registered'] });
  });

  it('should raise period ending once', () => {
    const ending = view(1, { pchainTime: START + 40 * H });
    const a = stakingEvents(none, ending);
    expect(a.events).toEqual(['staking.registered', 'staking.period_ending']);
    expect(stakingEvents(a.next, ending).events).toEqual([]);
  });
});

describe(assignStakingObservers.name, () => {
  const subject = (nodeId: string, zone: string, hostId = `h-${nodeId}`) => ({
    nodeId,
    network: 'fuji' as const,
    zone,
    hostId,
  });
  const observer = (hostId: string, zone: string, role: 'standby' | 'assigned' = 'standby') => ({
    hostId,
    zone,
    network: 'fuji' as const,
    role,
  });

  it('should prefer other zones, then standbys, and never the validator’s own host', () => {
    const out = assignStakingObservers(
      [subject('A', 'b', 'hA')],
      [
        observer('hA', 'b', 'assigned'),
        observer('s-b', 'b'),
        observer('x-c', 'c', 'assigned'),
        observer('s-c', 'c'),
      ],
      { perSubject: 2, maxPerObserver: 10 },
    );
    expect(out.get('s-c')).toEqual(['A']);
    expect(out.get('x-c')).toEqual(['A']);
    expect(out.get('s-b')).toEqual([]);
    expect(out.get('hA')).toEqual([]);
  });

  it('should only use observers on the validator’s network', () => {
    const out = assignStakingObservers(
      [subject('A', 'b')],
      [{ ...observer('m', 'c'), network: 'mainnet' }],
      { perSubject: 2, maxPerObserver: 10 },
    );
    expect(out.get('m')).toEqual([]);
  });

  it('should cap each observer and spread the load', () => {
    const subjects = Array.from({ length: 100 }, (_, i) => subject(`N${i}`, 'b'));
    const observers = ['c', 'd'].flatMap((z) => [observer(`s1-${z}`, z), observer(`s2-${z}`, z)]);
    const out = assignStakingObservers(subjects, observers, { perSubject: 2, maxPerObserver: 60 });
    const loads = [...out.values()].map((l) => l.length);
    expect(loads.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...loads)).toBeLessThanOrEqual(60);
    expect(Math.min(...loads)).toBeGreaterThan(30);
  });

  it('should move only the validators that an observer leaving looked at', () => {
    const zones = ['b', 'c', 'd'];
    const subjects = Array.from({ length: 300 }, (_, i) => subject(`N${i}`, zones[i % 3]!));
    const observers = Array.from({ length: 30 }, (_, i) =>
      observer(`o${i}`, zones[i % 3]!, i % 2 ? 'assigned' : 'standby'),
    );
    const opts = { perSubject: 2, maxPerObserver: 1_000 };
    const lookers = (m: Map<string, string[]>) => {
      const by = new Map<string, string[]>();
      for (const [host, ids] of m) for (const id of ids) by.set(id, [...(by.get(id) ?? []), host]);
      return by;
    };
    const before = lookers(assignStakingObservers(subjects, observers, opts));
    const after = lookers(assignStakingObservers(subjects, observers.slice(1), opts));
    const moved = subjects.filter(
      (s) => before.get(s.nodeId)!.sort().join() !== after.get(s.nodeId)!.sort().join(),
    );
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((s) => before.get(s.nodeId)!.includes('o0'))).toBe(true);
  });

  it('should give every validator of a large fleet its observers, in other zones', () => {
    const zones = ['b', 'c', 'd'];
    const subjects = Array.from({ length: 3_000 }, (_, i) =>
      subject(`N${i}`, zones[i % 3]!, `v${i}`),
    );
    const observers = [
      ...subjects.map((s) => observer(s.hostId, s.zone, 'assigned')),
      ...zones.map((z) => observer(`s-${z}`, z)),
    ];
    const out = assignStakingObservers(subjects, observers, { perSubject: 2, maxPerObserver: 200 });
    const zoneOf = new Map(observers.map((o) => [o.hostId, o.zone]));
    const count = new Map<string, number>();
    for (const [host, ids] of out) {
      expect(ids.length).toBeLessThanOrEqual(200);
      for (const id of ids) {
        count.set(id, (count.get(id) ?? 0) + 1);
        const s = subjects[Number(id.slice(1))]!;
        expect(host).not.toBe(s.hostId);
        expect(zoneOf.get(host)).not.toBe(s.zone);
      }
    }
    expect(subjects.every((s) => count.get(s.nodeId) === 2)).toBe(true);
    // Each standby fills to the cap first; the rest spread over the validators' hosts.
    for (const z of zones) expect(out.get(`s-${z}`)).toHaveLength(200);
  });

  it('should be stable: the same input gives the same answer', () => {
    const subjects = [subject('A', 'b'), subject('B', 'c')];
    const observers = [observer('1', 'b'), observer('2', 'c'), observer('3', 'd')];
    const opts = { perSubject: 1, maxPerObserver: 5 };
    expect(assignStakingObservers(subjects, observers, opts)).toEqual(
      assignStakingObservers([...subjects].reverse(), [...observers].reverse(), opts),
    );
  });
});

describe(compareMoveUrgency.name, () => {
  const u = (budgetLeftMs: number | null, status: MoveUrgency['status'] = 'ok'): MoveUrgency => ({
    status,
    budgetLeftMs,
  });
  it.each<[string, MoveUrgency | undefined, MoveUrgency | undefined, '<' | '>' | '=']>([
    ['less budget left first', u(1 * H, 'at_risk'), u(3 * H), '<'],
    ['more budget left later', u(3 * H), u(1 * H), '>'],
    ['a known budget before an unknown one', u(3 * H), u(null, 'unknown'), '<'],
    ['a stale view keeps its last budget', u(1 * H, 'unknown'), u(2 * H), '<'],
    ['a known budget before no staking row', u(3 * H), undefined, '<'],
    ['not registered before lost', u(null, 'not_registered'), u(-H, 'lost'), '<'],
    ['lost last, even behind a big budget', u(-1, 'lost'), u(300 * H), '>'],
    ['two unknowns tie', u(null, 'unknown'), undefined, '='],
  ])('should order %s', (_what, a, b, expected) => {
    const c = compareMoveUrgency(a, b);
    expect(c < 0 ? '<' : c > 0 ? '>' : '=').toBe(expected);
  });
});
