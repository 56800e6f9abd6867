import {
  budgetLeftFraction,
  registrationRules,
  requirementBasis,
  stakingViewAsOf,
} from './staking-read';
import { FUJI_HELICON_TIME, MAINNET_HELICON_TIME, type StakingView } from './staking';

const H = 3_600_000;
const D = 24 * H;

const view = (over: Partial<StakingView>): StakingView => ({
  status: 'ok',
  lastStatus: 'ok',
  ageMs: 1_000,
  pchainTime: FUJI_HELICON_TIME + D,
  registered: true,
  stake: null,
  requirement: 0.9,
  uptime: 0.99,
  uptimeSource: 'peer',
  observers: 2,
  budget: null,
  periodEnding: false,
  ...over,
});

describe(stakingViewAsOf.name, () => {
  it.each<[string, Partial<StakingView>, StakingView['status'], StakingView['lastStatus']]>([
    ['fresh: as stored', { ageMs: 180_000 }, 'ok', 'ok'],
    ['1 ms past the limit: unknown, what it said kept', { ageMs: 180_001 }, 'unknown', 'ok'],
    [
      'stale at risk',
      { status: 'at_risk', lastStatus: 'at_risk', ageMs: 9e6 },
      'unknown',
      'at_risk',
    ],
    ['stale not registered', { status: 'not_registered', ageMs: 9e6 }, 'unknown', 'not_registered'],
    [
      'stored unknown stays so',
      { status: 'unknown', lastStatus: 'lost', ageMs: 9e6 },
      'unknown',
      'lost',
    ],
    ['never observed', { status: 'unknown', lastStatus: null, ageMs: null }, 'unknown', null],
  ])('should read %s', (_name, over, status, lastStatus) => {
    const v = stakingViewAsOf(view(over), 180_000);
    expect([v.status, v.lastStatus]).toEqual([status, lastStatus]);
    // The figures stay beside their age: a reader shows them as the last known, not current.
    expect(v.uptime).toBe(0.99);
  });
});

describe(requirementBasis.name, () => {
  it.each<[string, Parameters<typeof requirementBasis>, number, string, RegExp]>([
    [
      'fuji at Helicon',
      ['fuji', FUJI_HELICON_TIME],
      0.9,
      'helicon',
      /at or after Helicon.*ACP-267/,
    ],
    ['fuji 1 ms before', ['fuji', FUJI_HELICON_TIME - 1], 0.8, 'pre_helicon', /before Helicon/],
    ['mainnet after', ['mainnet', MAINNET_HELICON_TIME + D], 0.9, 'helicon', /^90 %/],
    ['local: unscheduled', ['local', Date.UTC(2030, 0, 1)], 0.8, 'pre_helicon', /not scheduled/],
  ])('should say why for %s', (_name, args, value, basis, reason) => {
    const r = requirementBasis(...args);
    expect(r).toMatchObject({ value, basis });
    expect(r.reason).toMatch(reason);
  });
});

describe(budgetLeftFraction.name, () => {
  it.each([
    [{ budgetMs: 4.8 * H, budgetLeftMs: 2.4 * H }, 0.5],
    [{ budgetMs: 4.8 * H, budgetLeftMs: -4.8 * H }, -1],
    [{ budgetMs: 0, budgetLeftMs: 0 }, null],
  ])('should divide %o', (b, f) => expect(budgetLeftFraction(b)).toBe(f));
});

describe(registrationRules.name, () => {
  it.each<[string, Parameters<typeof registrationRules>, object]>([
    [
      'mainnet before Helicon: 14 days, 2,000 AVAX, 80 %',
      ['mainnet', MAINNET_HELICON_TIME - 1],
      { minStakeDurationMs: 14 * D, minStake: 2_000_000_000_000n, uptimeRequirement: 0.8 },
    ],
    [
      'mainnet after Helicon: 48 h, 90 %',
      ['mainnet', MAINNET_HELICON_TIME],
      { minStakeDurationMs: 48 * H, heliconActive: true, uptimeRequirement: 0.9 },
    ],
    [
      'fuji after Helicon: 12 h, 1 AVAX',
      ['fuji', FUJI_HELICON_TIME + D],
      { minStakeDurationMs: 12 * H, minStake: 1_000_000_000n, maxStakeDurationMs: 365 * D },
    ],
  ])('should give %s', (_name, args, expected) => {
    expect(registrationRules(...args)).toMatchObject({
      maxStake: 3_000_000_000_000_000n,
      ...expected,
    });
  });
});
