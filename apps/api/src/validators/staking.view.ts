import {
  budgetLeftFraction,
  requirementBasis,
  stakingViewAsOf,
  type Network,
  type NetworkStakingRules,
  type StakingView,
} from '@snowline/domain';
import type { StoredStakingView } from '@snowline/persistence';
import { isoTime } from '../common/iso-time';

export interface StakingReadContext {
  /** Older than this a view is `unknown` (3 × STAKING_REPORT_SECONDS, as the worker judges). */
  staleAfterMs: number;
  rules: Readonly<Record<Network, NetworkStakingRules>>;
  /** L1_BALANCE_LOW_DAYS: an L1 balance is low below this many days of fee. */
  l1BalanceLowDays: number;
}

const iso = (t: number | null) => (t === null ? null : isoTime(new Date(t)));
const seconds = (ms: number) => Math.round(ms / 1000);
/** Floored to 2 decimals: a balance just under the setting never reads as the setting. */
const floor2 = (n: number) => Math.floor(n * 100) / 100;

const REWARD = { ok: 'on_track', at_risk: 'at_risk', lost: 'lost' } as const;

/** The figures one view gives, under the status they support. */
function figures(
  v: StakingView,
  status: Exclude<StakingView['status'], 'unknown'>,
  network: Network,
  rules: StakingReadContext['rules'],
  lowBelowDays: number,
) {
  const basis = v.stake ? requirementBasis(network, v.stake.startMs, rules) : null;
  return {
    status,
    pchainTime: iso(v.pchainTime),
    registered: v.registered,
    txId: v.stake?.txId ?? null,
    startTime: v.stake ? iso(v.stake.startMs) : null,
    endTime: v.stake ? iso(v.stake.endMs) : null,
    weight: v.stake?.weight ?? null,
    autoRenew: v.stake?.autoRenew ?? null,
    requirement:
      basis && v.requirement !== null
        ? {
            // What the worker judged by; the basis says why (the same rules, the same calendar).
            value: v.requirement,
            basis: basis.basis,
            heliconActivatesAt: iso(basis.heliconTime),
            reason: basis.reason,
          }
        : null,
    uptime:
      v.uptime !== null && v.uptimeSource !== null
        ? { value: v.uptime, source: v.uptimeSource, observers: v.observers }
        : null,
    budget: v.budget
      ? {
          totalSeconds: seconds(v.budget.budgetMs),
          usedSeconds: seconds(v.budget.downtimeMs),
          leftSeconds: seconds(v.budget.budgetLeftMs),
          leftFraction: budgetLeftFraction(v.budget),
        }
      : null,
    reward: status === 'ok' || status === 'at_risk' || status === 'lost' ? REWARD[status] : null,
    periodEnding: v.stake ? v.periodEnding : null,
    l1: v.l1
      ? {
          subnetId: v.l1.subnetId,
          validationId: v.l1.validationId,
          balance: v.l1.balance,
          feePrice: v.l1.feePrice,
          feeSource: v.l1.feeSource,
          // Infinity (no fee charged) is no JSON number: null, beside `active`.
          daysLeft: Number.isFinite(v.l1.daysLeft) ? floor2(v.l1.daysLeft) : null,
          active: v.l1.active,
          low: v.l1.low,
          lowBelowDays,
        }
      : null,
  };
}
export type StakingFigures = ReturnType<typeof figures>;

const NOTHING = {
  pchainTime: null,
  registered: null,
  txId: null,
  startTime: null,
  endTime: null,
  weight: null,
  autoRenew: null,
  requirement: null,
  uptime: null,
  budget: null,
  reward: null,
  periodEnding: null,
  l1: null,
} as const;

/**
 * A validator's `staking` block: the stored view judged again as of now (stale → `unknown`), its
 * figures when current; when unknown every figure is null and `lastKnown` holds the last ones,
 * beside their age — never a stale figure in a current field, and never a made-up 0.
 */
export function stakingBlock(
  stored: StoredStakingView | null,
  network: Network,
  ctx: StakingReadContext,
) {
  const base = {
    observedAt: stored?.observedAt ? isoTime(stored.observedAt) : null,
    ageSeconds:
      stored?.observedAt && stored.view.ageMs !== null ? seconds(stored.view.ageMs) : null,
    staleAfterSeconds: seconds(ctx.staleAfterMs),
  };
  const v = stored ? stakingViewAsOf(stored.view, ctx.staleAfterMs) : null;
  if (!v || v.status === 'unknown') {
    return {
      status: 'unknown' as const,
      ...base,
      ...NOTHING,
      lastKnown: v?.lastStatus
        ? figures(v, v.lastStatus, network, ctx.rules, ctx.l1BalanceLowDays)
        : null,
    };
  }
  const { status, ...current } = figures(v, v.status, network, ctx.rules, ctx.l1BalanceLowDays);
  return { status, ...base, ...current, lastKnown: null };
}
export type StakingBlock = ReturnType<typeof stakingBlock>;
