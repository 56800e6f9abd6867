import { Gauge, type Registry } from 'prom-client';
import { NETWORKS, STAKING_STATUSES, type StakingStatus } from '@snowline/domain';
import type { StakingFigures, StakingStatusCount } from '@snowline/persistence';

export interface StakingSnapshot {
  counts: StakingStatusCount[];
  /** Null unless METRICS_PER_VALIDATOR is on. */
  perValidator: StakingFigures[] | null;
}

/** Statuses whose reward is still to be won: the ones a least-budget-left alert is about. */
const AT_STAKE: readonly StakingStatus[] = ['ok', 'at_risk'];

export interface StakingSeries {
  /** Every network × status, 0 when none: `absent()` means "no data", never "no validator". */
  validators: { network: string; status: StakingStatus; n: number }[];
  /** By network, among validators at stake with a current view; a network with none is absent. */
  minBudgetLeftSeconds: Map<string, number>;
  minUptimeRatio: Map<string, number>;
}

/** The fleet-wide staking series from the grouped counts (pure). */
export function stakingSeries(counts: readonly StakingStatusCount[]): StakingSeries {
  const validators = new Map<string, { network: string; status: StakingStatus; n: number }>();
  const key = (network: string, status: string) => `${network}/${status}`;
  for (const network of NETWORKS)
    for (const status of STAKING_STATUSES)
      validators.set(key(network, status), { network, status, n: 0 });
  const minBudgetLeftSeconds = new Map<string, number>();
  const minUptimeRatio = new Map<string, number>();
  const lower = (m: Map<string, number>, network: string, v: number) =>
    m.set(network, Math.min(v, m.get(network) ?? Infinity));
  for (const c of counts) {
    const k = key(c.network, c.status);
    validators.set(k, {
      network: c.network,
      status: c.status,
      n: (validators.get(k)?.n ?? 0) + c.n,
    });
    if (!AT_STAKE.includes(c.status)) continue;
    if (c.minBudgetLeftMs !== null)
      lower(minBudgetLeftSeconds, c.network, c.minBudgetLeftMs / 1000);
    if (c.minUptime !== null) lower(minUptimeRatio, c.network, c.minUptime);
  }
  return { validators: [...validators.values()], minBudgetLeftSeconds, minUptimeRatio };
}

/**
 * The staking gauges (issue 22 point 4), read from the fleet snapshot. Low-cardinality by default:
 * network × status counts and per-network minimums; one series per validator only with
 * METRICS_PER_VALIDATOR. An unknown view is never a figure: it is counted as `unknown` and left out
 * of every minimum and per-validator series (no series, not 0, not its last value).
 */
export function registerStakingGauges(
  registers: Registry[],
  read: () => Promise<StakingSnapshot | null>,
  perValidator: boolean,
): void {
  const series = async () => {
    const s = await read();
    return s ? stakingSeries(s.counts) : null;
  };
  new Gauge({
    name: 'snowline_staking_validators',
    help: 'Validators with a NodeID, not retired, by network and staking status as of now (unknown: no observation newer than three staking reports, or never evaluated)',
    labelNames: ['network', 'status'] as const,
    registers,
    async collect() {
      this.reset();
      for (const v of (await series())?.validators ?? [])
        this.set({ network: v.network, status: v.status }, v.n);
    },
  });
  new Gauge({
    name: 'snowline_staking_budget_left_min_seconds',
    help: 'Least downtime budget left among validators whose reward is at stake (status ok or at_risk) by network; no series when none (unknown views are left out, never 0)',
    labelNames: ['network'] as const,
    registers,
    async collect() {
      this.reset();
      for (const [network, v] of (await series())?.minBudgetLeftSeconds ?? [])
        this.set({ network }, v);
    },
  });
  new Gauge({
    name: 'snowline_staking_uptime_min_ratio',
    help: 'Least uptime (0-1, as peers measure it, else its own node) among validators whose reward is at stake (status ok or at_risk) by network; no series when none (unknown views are left out, never 0)',
    labelNames: ['network'] as const,
    registers,
    async collect() {
      this.reset();
      for (const [network, v] of (await series())?.minUptimeRatio ?? []) this.set({ network }, v);
    },
  });
  if (!perValidator) return;
  const each = (name: string, help: string, pick: (f: StakingFigures) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['validator', 'network'] as const,
      registers,
      async collect() {
        this.reset();
        for (const f of (await read())?.perValidator ?? []) {
          const v = pick(f);
          if (v !== null) this.set({ validator: f.validatorId, network: f.network }, v);
        }
      },
    });
  each(
    'snowline_validator_staking_budget_left_seconds',
    'Downtime budget left of each validator with a current view (below 0: reward lost); no series while unknown (METRICS_PER_VALIDATOR)',
    (f) => (f.budgetLeftMs === null ? null : f.budgetLeftMs / 1000),
  );
  each(
    'snowline_validator_staking_uptime_ratio',
    'Uptime (0-1, as peers measure it, else its own node) of each validator with a current view; no series while unknown (METRICS_PER_VALIDATOR)',
    (f) => f.uptime,
  );
}
