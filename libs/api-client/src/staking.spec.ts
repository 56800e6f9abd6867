import { compareStakingRisk, stakingRiskGroup, type StakingBlock } from './staking';

type Risky = Pick<StakingBlock, 'status' | 'budget' | 'lastKnown'>;
const budget = (leftSeconds: number) => ({
  totalSeconds: 4320,
  usedSeconds: 4320 - leftSeconds,
  leftSeconds,
  leftFraction: leftSeconds / 4320,
});
const known = (status: StakingBlock['status'], left: number | null): Risky => ({
  status,
  budget: left === null ? null : budget(left),
  lastKnown: null,
});
const unknown = (lastLeft: number | null): Risky => ({
  status: 'unknown',
  budget: null,
  lastKnown:
    lastLeft === null
      ? null
      : ({ status: 'ok', budget: budget(lastLeft) } as StakingBlock['lastKnown']),
});

describe(compareStakingRisk.name, () => {
  it('should put the least budget left first, and unknown apart — never as 0', () => {
    const fleet: [string, Risky | null][] = [
      ['never', unknown(null)],
      ['ok', known('ok', 4000)],
      ['stale-low', unknown(10)],
      ['unregistered', known('not_registered', null)],
      ['lost', known('lost', -600)],
      ['at-risk', known('at_risk', 900)],
      ['no-block', null],
      ['zero-left', known('at_risk', 0)],
    ];
    const sorted = [...fleet]
      .sort(([na, a], [nb, b]) => compareStakingRisk(a, b) || na.localeCompare(nb))
      .map(([n]) => n);
    expect(sorted).toEqual([
      'lost',
      'zero-left',
      'at-risk',
      'ok',
      'unregistered',
      'stale-low',
      'never',
      'no-block',
    ]);
  });

  it.each<[string, Risky | null, number]>([
    ['a current budget', known('ok', 1), 0],
    ['current, no budget', known('registered', null), 1],
    ['unknown with a last budget', unknown(1), 2],
    ['no block', null, 2],
  ])('should group %s', (_n, s, g) => expect(stakingRiskGroup(s)).toBe(g));
});
