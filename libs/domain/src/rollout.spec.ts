import {
  needsUpgrade,
  planRollout,
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
      'at most N per zone: the second waits',
      { validators: [v('a'), v('b')], standbys: [sb('s1'), sb('s2')] },
      [['a', 's1']],
    ],
    [
      'N per zone, counted apart by zone',
      {
        validators: [v('a'), v('b', { zone: 'z-b' })],
        standbys: [sb('s1'), sb('s2', { zone: 'z-b' })],
      },
      [
        ['a', 's1'],
        ['b', 's2'],
      ],
    ],
    [
      'moves already in flight count',
      { validators: [v('a')], standbys: [sb('s1')], inFlightByZone: { 'z-a': 1 } },
      [],
    ],
    [
      'N = 2 lets two leave one zone',
      { validators: [v('a'), v('b')], standbys: [sb('s1'), sb('s2')], maxInFlightPerZone: 2 },
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
      ['b', '1 planned move(s) already leaving z-a'],
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
