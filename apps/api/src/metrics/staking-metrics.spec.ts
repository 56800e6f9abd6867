import { Registry } from 'prom-client';
import { NETWORKS, STAKING_STATUSES } from '@snowline/domain';
import type { StakingFigures, StakingStatusCount } from '@snowline/persistence';
import { registerStakingGauges, stakingSeries, type StakingSnapshot } from './staking-metrics';

const count = (c: Partial<StakingStatusCount> & Pick<StakingStatusCount, 'status' | 'n'>) => ({
  network: 'fuji' as const,
  minBudgetLeftMs: null,
  minUptime: null,
  ...c,
});

/** A fuji fleet: 2 ok, 1 at risk, 1 lost, 3 unknown (whose last figures the query leaves out). */
const FUJI: StakingStatusCount[] = [
  count({ status: 'ok', n: 2, minBudgetLeftMs: 3_600_000, minUptime: 0.97 }),
  count({ status: 'at_risk', n: 1, minBudgetLeftMs: 1_944_000, minUptime: 0.89 }),
  count({ status: 'lost', n: 1, minBudgetLeftMs: -60_000, minUptime: 0.5 }),
  count({ status: 'unknown', n: 3 }),
];

describe(stakingSeries.name, () => {
  it('should give every network and status, 0 when none', () => {
    const s = stakingSeries(FUJI);
    expect(s.validators).toHaveLength(NETWORKS.length * STAKING_STATUSES.length);
    const n = (network: string, status: string) =>
      s.validators.find((v) => v.network === network && v.status === status)?.n;
    expect(n('fuji', 'ok')).toBe(2);
    expect(n('fuji', 'unknown')).toBe(3);
    expect(n('fuji', 'not_registered')).toBe(0);
    expect(n('mainnet', 'unknown')).toBe(0);
    expect(stakingSeries([]).validators.every((v) => v.n === 0)).toBe(true);
  });

  it('should take the least budget and uptime among validators at stake only', () => {
    const s = stakingSeries(FUJI);
    // The lost one (-60 s, 50 %) has nothing left to save: it would pin the minimum below 0.
    expect(s.minBudgetLeftSeconds).toEqual(new Map([['fuji', 1944]]));
    expect(s.minUptimeRatio).toEqual(new Map([['fuji', 0.89]]));
  });

  it.each([
    ['only unknown views', [count({ status: 'unknown', n: 4 })]],
    ['only lost ones', [count({ status: 'lost', n: 1, minBudgetLeftMs: -1, minUptime: 0.1 })]],
    ['only L1 (registered) ones', [count({ status: 'registered', n: 2 })]],
    ['no validator', []],
  ])('should leave the minimums out with %s, never 0', (_name, counts) => {
    const s = stakingSeries(counts);
    expect(s.minBudgetLeftSeconds.size).toBe(0);
    expect(s.minUptimeRatio.size).toBe(0);
  });
});

describe(registerStakingGauges.name, () => {
  const FIGURES: StakingFigures[] = [
    { validatorId: 'v-ok', network: 'fuji', status: 'ok', budgetLeftMs: 3_600_500, uptime: 0.97 },
    {
      validatorId: 'v-l1',
      network: 'fuji',
      status: 'registered',
      budgetLeftMs: null,
      uptime: null,
    },
  ];
  const scrape = async (snapshot: StakingSnapshot | null, perValidator: boolean) => {
    const registry = new Registry();
    registerStakingGauges([registry], () => Promise.resolve(snapshot), perValidator);
    return registry.metrics();
  };

  it('should expose counts and minimums, and no per-validator series by default', async () => {
    const text = await scrape({ counts: FUJI, perValidator: null }, false);
    expect(text).toContain('snowline_staking_validators{network="fuji",status="unknown"} 3');
    expect(text).toContain('snowline_staking_validators{network="local",status="lost"} 0');
    expect(text).toContain('snowline_staking_budget_left_min_seconds{network="fuji"} 1944');
    expect(text).toContain('snowline_staking_uptime_min_ratio{network="fuji"} 0.89');
    expect(text).not.toMatch(/_min_\w+\{network="mainnet"\}/);
    expect(text).not.toContain('snowline_validator_staking');
  });

  it('should add one series per validator with a figure when turned on', async () => {
    const text = await scrape({ counts: FUJI, perValidator: FIGURES }, true);
    expect(text).toContain(
      'snowline_validator_staking_budget_left_seconds{validator="v-ok",network="fuji"} 3600.5',
    );
    expect(text).toContain(
      'snowline_validator_staking_uptime_ratio{validator="v-ok",network="fuji"} 0.97',
    );
    expect(text).not.toContain('validator="v-l1"');
  });

  it('should leave every series out when the database did not answer', async () => {
    const text = await scrape(null, true);
    expect(text).not.toMatch(/^snowline_\w+\{/m);
  });
});
