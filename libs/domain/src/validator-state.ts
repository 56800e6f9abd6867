export const NETWORKS = ['fuji', 'mainnet', 'local'] as const;
export type Network = (typeof NETWORKS)[number];

export const VALIDATOR_STATES = [
  'pending',
  'provisioning',
  'syncing',
  'active',
  'degraded',
  'failing_over',
  'retiring',
  'retired',
  'failed',
] as const;
export type ValidatorState = (typeof VALIDATOR_STATES)[number];

export type HostRole = 'assigned' | 'standby';

/** Which state may follow which. Every state move in the system is checked against this table. */
export const VALIDATOR_TRANSITIONS: Record<ValidatorState, readonly ValidatorState[]> = {
  pending: ['provisioning', 'retiring', 'failed'],
  provisioning: ['syncing', 'active', 'retiring', 'failed', 'pending'],
  // A syncing validator whose host dies is moved like an active one (FailoverService takes it).
  syncing: ['active', 'retiring', 'failed', 'degraded', 'failing_over'],
  active: ['degraded', 'failing_over', 'retiring'],
  degraded: ['active', 'failing_over', 'retiring'],
  failing_over: ['syncing', 'active', 'retiring', 'failed'],
  retiring: ['retired'],
  retired: [],
  failed: ['retiring', 'pending'],
};

export function canTransition(from: ValidatorState, to: ValidatorState): boolean {
  return VALIDATOR_TRANSITIONS[from].includes(to);
}

/** The states from which `to` may be entered: the WHERE clause of a conditional update. */
export function statesLeadingTo(to: ValidatorState): ValidatorState[] {
  return VALIDATOR_STATES.filter((s) => VALIDATOR_TRANSITIONS[s].includes(to));
}

/** States in which a validator still owns (or is about to own) cloud resources. */
export const LIVE_STATES: readonly ValidatorState[] = VALIDATOR_STATES.filter(
  (s) => s !== 'retired' && s !== 'failed',
);
