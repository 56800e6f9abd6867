import type { components } from './schema';

export type StakingBlock = components['schemas']['StakingDto'];

type Risky = Pick<StakingBlock, 'status' | 'budget' | 'lastKnown'>;

/**
 * Where a validator's staking sorts in a fleet "by risk": 0, a current budget (least left first, a
 * lost period — below 0 — before all); 1, current but without a budget (not registered, or nobody
 * measures it); 2, unknown — apart, never as a 0 budget — by the last budget it had.
 */
export function stakingRiskGroup(s: Risky | null | undefined): 0 | 1 | 2 {
  if (!s || s.status === 'unknown') return 2;
  return s.budget ? 0 : 1;
}

/** A comparator for a fleet by staking risk; 0 for a tie (the caller breaks it, e.g. by name). */
export function compareStakingRisk(a: Risky | null | undefined, b: Risky | null | undefined) {
  const ga = stakingRiskGroup(a);
  const gb = stakingRiskGroup(b);
  if (ga !== gb) return ga - gb;
  const left = (s: Risky | null | undefined) =>
    (ga === 2 ? s?.lastKnown?.budget?.leftSeconds : s?.budget?.leftSeconds) ?? Infinity;
  const la = left(a);
  const lb = left(b);
  return la === lb ? 0 : la < lb ? -1 : 1;
}
