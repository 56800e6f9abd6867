import type { NetworkUpgrade } from './versions';
import {
  inUtcWindow,
  judgeAutoUpgrade,
  parseUtcWindow,
  type AutoUpgradeInput,
  needsUpgrade,
  planRollout,
  standbyPoolTargets,
  standbyVersionTargets,
  type RolloutInput,
  type RolloutStandby,
  type RolloutValidator,
} from './rollout';

const v = (id: string, over: Partial<RolloutValidator> = {}): RolloutValidator => ({
  id,
  zone: 'z-a',
  state: 'active',
  desiredVersion: '1.15.0',
  runningVersion: '1.14.2',
  moving: false,
  allowedZones: [],
  ...over,
});
const sb = (id: string, over: Partial<RolloutStandby> = {}): RolloutStandby => ({
  id,
  zone: 'z-a',
  version: '1.15.0',
  synced: true,
  ...over,
});
const input = (over: Partial<RolloutInput> = {}): RolloutInput => ({
  validators: [],
  standbys: [],
  inFlightByZone: {},
  halted: [],
  blockedZones: [],
  maxInFlightPerZone: 1,
  ...over,
});
const moved = (over: Partial<RolloutInput>) =>
  planRollout(input(over)).moves.map((m) => [m.validatorId, m.standbyId]);
const waits = (over: Partial<RolloutInput>) =>
  planRollout(input(over)).waiting.map((w) => [w.validatorId, w.reason]);

describe(needsUpgrade.name, () => {
  it.each([
    ['1.15.0', '1.15.0', false],
    ['1.15.0', '1.14.2', true],
    ['1.14.2', '1.15.0', true], // a downgrade the spec asks for is a move too
    ['1.15.0', null, true], // unknown is not "already there"
  ])('desired %s, running %s → %s', (desiredVersion, runningVersion, want) => {
    expect(needsUpgrade({ desiredVersion, runningVersion })).toBe(want);
  });
});

describe(planRollout.name, () => {
  it.each<[string, Partial<RolloutInput>, string[][]]>([
    [
      'nothing to do when every validator runs its version',
      { validators: [v('a', { runningVersion: '1.15.0' })], standbys: [sb('s1')] },
      [],
    ],
    [
      'one move onto a standby of the desired version',
      { validators: [v('a')], standbys: [sb('s1', { version: '1.14.2' }), sb('s2')] },
      [['a', 's2']],
    ],
    [
      'an L1 validator only onto a standby tracking its L1',
      {
        validators: [v('a', { subnetId: 'L1x' })],
        standbys: [sb('s1'), sb('s2', { subnetId: 'L1y' }), sb('s3', { subnetId: 'L1x' })],
      },
      [['a', 's3']],
    ],
    [
      'a primary-network validator never onto an L1’s standby',
      { validators: [v('a')], standbys: [sb('s1', { subnetId: 'L1x' }), sb('s2')] },
      [['a', 's2']],
    ],
    [
      'at most N per zone: the second waits',
      { validators: [v('a'), v('b')], standbys: [sb('s1'), sb('s2')] },
      [['a', 's1']],
    ],
    [
      'N per zone, counted apart by zone',
      {
        // `c` already runs 1.15.0: no canary needed.
        validators: [v('a'), v('b', { zone: 'z-b' }), v('c', { runningVersion: '1.15.0' })],
        standbys: [sb('s1'), sb('s2', { zone: 'z-b' })],
      },
      [
        ['a', 's1'],
        ['b', 's2'],
      ],
    ],
    [
      'a version nobody runs yet goes to one validator first (the canary)',
      {
        validators: [v('a'), v('b', { zone: 'z-b' })],
        standbys: [sb('s1'), sb('s2', { zone: 'z-b' })],
      },
      [['a', 's1']],
    ],
    [
      'the canary under way: the rest wait',
      {
        validators: [v('a', { moving: true }), v('b', { zone: 'z-b' })],
        standbys: [sb('s2', { zone: 'z-b' })],
      },
      [],
    ],
    [
      'the canary on its new host, not up yet (the host reports the version already): the rest wait',
      {
        validators: [
          v('a', { moving: true, state: 'failing_over', runningVersion: '1.15.0' }),
          v('b', { zone: 'z-b' }),
        ],
        standbys: [sb('s2', { zone: 'z-b' })],
      },
      [],
    ],
    [
      'the canary came up: the rest go, N per zone',
      {
        validators: [
          v('a', { runningVersion: '1.15.0' }),
          v('b', { zone: 'z-b' }),
          v('c', { zone: 'z-c' }),
        ],
        standbys: [sb('s2', { zone: 'z-b' }), sb('s3', { zone: 'z-c' })],
      },
      [
        ['b', 's2'],
        ['c', 's3'],
      ],
    ],
    [
      'moves already in flight count',
      { validators: [v('a')], standbys: [sb('s1')], inFlightByZone: { 'z-a': 1 } },
      [],
    ],
    [
      'N = 2 lets two leave one zone',
      {
        validators: [v('a'), v('b'), v('c', { runningVersion: '1.15.0', zone: 'z-c' })],
        standbys: [sb('s1'), sb('s2')],
        maxInFlightPerZone: 2,
      },
      [
        ['a', 's1'],
        ['b', 's2'],
      ],
    ],
    [
      'the same zone first',
      { validators: [v('a')], standbys: [sb('s1', { zone: 'z-b' }), sb('s2')] },
      [['a', 's2']],
    ],
    [
      'another zone when its own has none',
      { validators: [v('a')], standbys: [sb('s1', { zone: 'z-b' })] },
      [['a', 's1']],
    ],
    [
      'never a zone it may not use',
      { validators: [v('a', { allowedZones: ['z-a'] })], standbys: [sb('s1', { zone: 'z-b' })] },
      [],
    ],
    [
      'never a blocked zone',
      { validators: [v('a')], standbys: [sb('s1')], blockedZones: ['z-a'] },
      [],
    ],
    [
      'never an unsynced standby',
      { validators: [v('a')], standbys: [sb('s1', { synced: false })] },
      [],
    ],
    [
      'never a standby of unknown version',
      { validators: [v('a')], standbys: [sb('s1', { version: null })] },
      [],
    ],
    [
      'each standby once',
      { validators: [v('a'), v('b', { zone: 'z-b' })], standbys: [sb('s1')] },
      [['a', 's1']],
    ],
    [
      'an unknown running version moves',
      { validators: [v('a', { runningVersion: null })], standbys: [sb('s1')] },
      [['a', 's1']],
    ],
    [
      'a halted version moves nobody',
      { validators: [v('a')], standbys: [sb('s1')], halted: ['1.15.0'] },
      [],
    ],
    [
      'another version is not halted by it',
      {
        validators: [v('a', { desiredVersion: '1.15.1' })],
        standbys: [sb('s1', { version: '1.15.1' })],
        halted: ['1.15.0'],
      },
      [['a', 's1']],
    ],
    [
      'a validator already moving waits',
      { validators: [v('a', { moving: true })], standbys: [sb('s1')] },
      [],
    ],
    [
      'a degraded validator waits (repair first)',
      { validators: [v('a', { state: 'degraded' })], standbys: [sb('s1')] },
      [],
    ],
  ])('%s', (_w, over, want) => {
    expect(moved(over)).toEqual(want);
  });

  it('should say why each validator that needs a move waits', () => {
    expect(
      waits({
        validators: [
          v('a'),
          v('b'),
          v('c', { desiredVersion: '9.9.9' }),
          v('d', { state: 'failing_over', zone: 'z-b' }),
          v('e', { desiredVersion: '1.16.0', zone: 'z-c' }),
        ],
        standbys: [sb('s1'), sb('s2')],
        halted: ['1.16.0'],
      }),
    ).toEqual([
      ['b', 'waiting for the first validator on 1.15.0 (the canary) to come up'],
      ['c', '1 planned move(s) already leaving z-a'],
      ['d', 'it is failing_over, not active'],
      ['e', 'the rollout to 1.16.0 halted after a rollback'],
    ]);
    expect(waits({ validators: [v('a')] })).toEqual([['a', 'no synced standby runs 1.15.0 yet']]);
  });

  it('should carry both versions on each move', () => {
    expect(
      planRollout(input({ validators: [v('a')], standbys: [sb('s1', { zone: 'z-b' })] })).moves,
    ).toEqual([
      {
        validatorId: 'a',
        standbyId: 's1',
        fromZone: 'z-a',
        toZone: 'z-b',
        fromVersion: '1.14.2',
        toVersion: '1.15.0',
      },
    ]);
  });

  it('should refuse a negative or fractional cap', () => {
    expect(() => planRollout(input({ maxInFlightPerZone: -1 }))).toThrow(RangeError);
    expect(() => planRollout(input({ maxInFlightPerZone: 1.5 }))).toThrow(RangeError);
  });
});

describe(standbyVersionTargets.name, () => {
  it('should keep standbys of every version run or asked for, none of unknown', () => {
    const t = standbyVersionTargets(
      [
        { desiredVersion: '1.15.0', runningVersion: '1.14.2' },
        { desiredVersion: '1.15.0', runningVersion: '1.15.0' },
        { desiredVersion: '1.15.0', runningVersion: null },
      ],
      2,
    );
    expect([...t.entries()].sort()).toEqual([
      ['1.14.2', 2],
      ['1.15.0', 2],
    ]);
    expect(standbyVersionTargets([], 2).size).toBe(0);
  });
});

describe(parseUtcWindow.name, () => {
  it.each([
    ['', null],
    ['02:00-06:00', { startMinute: 120, endMinute: 360 }],
    ['22:30-01:15', { startMinute: 1350, endMinute: 75 }],
  ])('%s → %j', (text, want) => {
    expect(parseUtcWindow(text)).toEqual(want);
  });
  it.each(['2-6', '24:00-01:00', '02:00-02:00', '02:00–06:00'])('refuses %s', (text) => {
    expect(() => parseUtcWindow(text)).toThrow(/HH:MM|empty/);
  });
  it.each([
    ['02:00-06:00', '2026-12-03T02:00:00Z', true],
    ['02:00-06:00', '2026-12-03T05:59:00Z', true],
    ['02:00-06:00', '2026-12-03T06:00:00Z', false],
    ['22:30-01:15', '2026-12-03T23:00:00Z', true],
    ['22:30-01:15', '2026-12-03T01:00:00Z', true],
    ['22:30-01:15', '2026-12-03T12:00:00Z', false],
    ['', '2026-12-03T12:00:00Z', true],
  ])('%s at %s → %s', (w, at, want) => {
    expect(inUtcWindow(parseUtcWindow(w), Date.parse(at))).toBe(want);
  });
});

describe(judgeAutoUpgrade.name, () => {
  const DAY = 86_400_000;
  const NOW = Date.parse('2026-12-03T03:00:00Z');
  const zeta: NetworkUpgrade = {
    network: 'fuji',
    name: 'Zeta',
    activatesAt: NOW + 3 * DAY,
    minVersion: '1.16.0',
    source: 'test',
  };
  const input = (over: Partial<AutoUpgradeInput> = {}): AutoUpgradeInput => ({
    policy: 'before-deadline',
    network: 'fuji',
    desiredVersion: '1.15.3',
    calendar: [zeta],
    releases: ['1.15.3', '1.16.0', '1.16.1'],
    defaultVersion: '1.16.1',
    leadMs: 7 * DAY,
    window: null,
    now: NOW,
    ...over,
  });
  it.each<[string, Partial<AutoUpgradeInput>, string | null]>([
    ['due: the fleet default when it survives', {}, '1.16.1'],
    [
      'due, the default does not survive: the lowest pinned that does',
      { defaultVersion: '1.15.3' },
      '1.16.0',
    ],
    ['manual: never', { policy: 'manual' }, null],
    ['the spec already survives', { desiredVersion: '1.16.0' }, null],
    ['not due yet (10 days out, lead 7)', { now: NOW - 7 * DAY }, null],
    ['no activation ahead', { calendar: [] }, null],
    ["another network's activation", { network: 'mainnet', desiredVersion: '1.15.3' }, null],
    ['outside the daily window', { window: parseUtcWindow('04:00-06:00') }, null],
    ['inside the daily window', { window: parseUtcWindow('02:00-04:00') }, '1.16.1'],
  ])('%s', (_w, over, want) => {
    const v = judgeAutoUpgrade(input(over));
    expect(v.action === 'upgrade' ? v.to : null).toBe(want);
  });
  it('should say when no pinned release survives', () => {
    expect(
      judgeAutoUpgrade(input({ releases: ['1.15.3'], defaultVersion: '1.15.3' })),
    ).toMatchObject({
      action: 'stuck',
      reason: expect.stringContaining('no pinned release (AVALANCHEGO_RELEASES) survives it'),
    });
  });
  it('should say why it upgrades', () => {
    expect(judgeAutoUpgrade(input())).toMatchObject({
      reason:
        'upgrade: before-deadline: Zeta activates on fuji at 2026-12-06T03:00:00.000Z and needs 1.16.0; 1.15.3 would stop validating',
    });
  });
});

describe(standbyPoolTargets.name, () => {
  const pv = (network: string, subnetId: string | null, desiredVersion = '1.15.0') => ({
    network,
    subnetId,
    desiredVersion,
    runningVersion: desiredVersion,
  });
  const def = (n: string) => (n === 'local' ? null : `${n}-default`);

  it.each<[string, string[], ReturnType<typeof pv>[], ReturnType<typeof standbyPoolTargets>]>([
    [
      'no validators: the primary network at the default version',
      ['fuji', 'mainnet'],
      [],
      [
        { network: 'fuji', subnetId: null, versions: ['fuji-default'] },
        { network: 'mainnet', subnetId: null, versions: ['mainnet-default'] },
      ],
    ],
    [
      'primary-network validators only: one pool, their versions',
      ['fuji'],
      [pv('fuji', null, '1.15.0'), pv('fuji', null, '1.15.3')],
      [{ network: 'fuji', subnetId: null, versions: ['1.15.0', '1.15.3'] }],
    ],
    [
      'an L1’s validators: a pool tracking it, with their versions',
      ['fuji'],
      [pv('fuji', null, '1.15.0'), pv('fuji', 'L1x', '1.15.3')],
      [
        { network: 'fuji', subnetId: null, versions: ['1.15.0'] },
        { network: 'fuji', subnetId: 'L1x', versions: ['1.15.3'] },
      ],
    ],
    [
      'L1 validators only: no primary-network pool',
      ['fuji'],
      [pv('fuji', 'L1y'), pv('fuji', 'L1x'), pv('fuji', 'L1x')],
      [
        { network: 'fuji', subnetId: 'L1x', versions: ['1.15.0'] },
        { network: 'fuji', subnetId: 'L1y', versions: ['1.15.0'] },
      ],
    ],
    [
      'a network without a default version and no validators: no versions',
      ['local'],
      [pv('fuji', 'L1x')],
      [{ network: 'local', subnetId: null, versions: [] }],
    ],
  ])('%s', (_what, networks, validators, want) => {
    expect(standbyPoolTargets(networks, validators, def)).toEqual(want);
  });
});
