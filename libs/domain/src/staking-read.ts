/**
 * Reading a stored staking view, pure: what surfaces (API, console, CLI, metrics) show of it now.
 * The worker stores each evaluation with the time of the observations it rests on; a reader judges
 * that age again, so a view the worker stopped refreshing (the worker down, the validator retired)
 * reads as `unknown` with its age, never as current.
 */
import type { Network } from './validator-state';
import {
  heliconActive,
  STAKING_RULES,
  stakeDurationLimits,
  uptimeRequirement,
  type DowntimeBudget,
  type NetworkStakingRules,
  type StakingView,
} from './staking';

/**
 * The view as of now. `ageMs` is its age by the reader's clock (the database's, as the worker's
 * is); past `staleAfterMs` — or never observed — it is `unknown`, and `lastStatus` says what it
 * last said.
 */
export function stakingViewAsOf(view: StakingView, staleAfterMs: number): StakingView {
  if (view.status === 'unknown') return view;
  if (view.ageMs !== null && view.ageMs <= staleAfterMs) return view;
  return { ...view, status: 'unknown', lastStatus: view.status };
}

/** Why a validation's requirement is what it is: its start against its network's Helicon. */
export interface RequirementBasis {
  value: number;
  /** `helicon`: started at or after Helicon (ACP-267); `pre_helicon`: before, or unscheduled. */
  basis: 'helicon' | 'pre_helicon';
  heliconTime: number | null;
  reason: string;
}

const iso = (t: number) => new Date(t).toISOString();
const pct = (f: number) => `${+(f * 100).toFixed(2)} %`;

export function requirementBasis(
  network: Network,
  startMs: number,
  rules: Readonly<Record<Network, NetworkStakingRules>> = STAKING_RULES,
): RequirementBasis {
  const value = uptimeRequirement(network, startMs, rules);
  const heliconTime = rules[network].heliconTime;
  const helicon = heliconActive(network, startMs, rules);
  const reason = helicon
    ? `${pct(value)}: the stake started ${iso(startMs)}, at or after Helicon on ${network} (${iso(heliconTime!)}; ACP-267)`
    : heliconTime === null
      ? `${pct(value)}: Helicon is not scheduled on ${network}; the genesis uptime requirement applies`
      : `${pct(value)}: the stake started ${iso(startMs)}, before Helicon on ${network} (${iso(heliconTime)}); the genesis uptime requirement applies`;
  return { value, basis: helicon ? 'helicon' : 'pre_helicon', heliconTime, reason };
}

/** Budget left ÷ budget (below 0: lost); null when the budget is 0 (nothing can be afforded). */
export function budgetLeftFraction(b: Pick<DowntimeBudget, 'budgetMs' | 'budgetLeftMs'>) {
  return b.budgetMs > 0 ? b.budgetLeftMs / b.budgetMs : null;
}

/** What a user needs for the staking transaction of a new primary-network validation. */
export interface RegistrationRules {
  /** The time the rules are judged at (the P-chain applies them at acceptance, i.e. the start). */
  atMs: number;
  heliconActive: boolean;
  heliconTime: number | null;
  minStakeDurationMs: number;
  maxStakeDurationMs: number;
  /** nAVAX. */
  minStake: bigint;
  maxStake: bigint;
  /** The requirement a validation starting at `atMs` would have. */
  uptimeRequirement: number;
}

export function registrationRules(
  network: Network,
  atMs: number,
  rules: Readonly<Record<Network, NetworkStakingRules>> = STAKING_RULES,
): RegistrationRules {
  const r = rules[network];
  const d = stakeDurationLimits(network, atMs, rules);
  return {
    atMs,
    heliconActive: heliconActive(network, atMs, rules),
    heliconTime: r.heliconTime,
    minStakeDurationMs: d.minMs,
    maxStakeDurationMs: d.maxMs,
    minStake: r.minValidatorStake,
    maxStake: r.maxValidatorStake,
    uptimeRequirement: uptimeRequirement(network, atMs, rules),
  };
}
