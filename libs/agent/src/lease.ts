/**
 * The control plane's rule for a lease renewal, pure: `AgentService.lease` applies it to the rows it
 * locked, and the fencing model (fencing.model.ts) applies the very same function to its own state, so
 * the property test checks the rule production runs.
 *
 * The safety argument: a host may run an identity only while it is the validator's current holder
 * under the current generation. Moving the identity bumps the generation in the transaction that
 * changes the holder (both rows locked, as this renewal locks them), so "still the current holder" is
 * decided on the same rows a move would change. A lease that ran out proves nothing by itself: while
 * nobody else was given the identity, the holder is still the only one that may run it, so it is
 * renewed — and re-armed under a new generation when its node no longer runs — instead of being fenced
 * for good because the control plane was away (issue 16, point 1).
 */

export interface LeaseHostFacts {
  /** False when the host row is gone. */
  exists: boolean;
  deleted: boolean;
  fenced: boolean;
  role: 'assigned' | 'standby';
  validatorId: string | null;
  /** The generation this host was given; null for a standby. */
  generation: number | null;
  /** When its lease runs out by the control plane's clock; null before the first renewal. */
  leaseExpiresAt: number | null;
  /** The generation whose keys this host was served; null when none. */
  keysFetchedGeneration: number | null;
}

export interface LeaseValidatorFacts {
  state: string;
  hostId: string | null;
  generation: number;
}

export interface LeaseInput {
  hostId: string;
  host: LeaseHostFacts;
  /** The host's validator, locked; null when the host names none or the row is gone. */
  validator: LeaseValidatorFacts | null;
  /** What the agent runs (or is about to run); null when it runs nothing. */
  requestGeneration: number | null;
  now: number;
}

export type LeaseDecision =
  /** Refuse: the agent must stop its node now, and the host is fenced for good. */
  | { kind: 'fence'; reason: string }
  /** A standby: renew, no identity. */
  | { kind: 'standby' }
  /** A launch in flight whose agent came up before the worker recorded the instance: renew, no assignment yet. */
  | { kind: 'launching' }
  /**
   * The current holder: renew, and hand out the assignment. `rearm`: its node runs nothing although it
   * was served this generation's keys (agent restart, reboot, a self-fence while the control plane was
   * away): bump the generation so it may fetch the keys once more. `expiredFor`: how long its lease had
   * run out (0 when it had not), for the event.
   */
  | { kind: 'renew'; rearm: boolean; expiredForMs: number };

const ENDED = new Set(['retiring', 'retired', 'failed']);

export function decideLease(input: LeaseInput): LeaseDecision {
  const { host, validator: v, requestGeneration: gen } = input;
  if (!host.exists || host.deleted || host.fenced)
    return { kind: 'fence', reason: 'This host has been retired.' };
  if (host.role === 'standby' || host.validatorId === null) {
    if (gen !== null) return { kind: 'fence', reason: 'This host holds no identity any more.' };
    return { kind: 'standby' };
  }
  if (!v || ENDED.has(v.state)) return { kind: 'fence', reason: 'The validator was retired.' };
  if (
    v.hostId === null &&
    host.generation === v.generation &&
    (v.state === 'provisioning' || v.state === 'failing_over')
  ) {
    // Fencing it would strand the launch the worker is about to record.
    return { kind: 'launching' };
  }
  if (v.hostId !== input.hostId || host.generation !== v.generation) {
    return {
      kind: 'fence',
      reason: `Generation ${host.generation} is stale; the validator moved on to ${v.generation}.`,
    };
  }
  // From here on this host is the current holder: nobody else may have been given the identity.
  const rearm = gen === null && host.keysFetchedGeneration === v.generation;
  if (!rearm && gen !== null && gen !== v.generation) {
    return { kind: 'fence', reason: `The node runs generation ${gen}, not ${v.generation}.` };
  }
  const expiredForMs =
    host.leaseExpiresAt !== null && host.leaseExpiresAt <= input.now
      ? input.now - host.leaseExpiresAt
      : 0;
  return { kind: 'renew', rearm, expiredForMs };
}
