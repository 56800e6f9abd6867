/**
 * The control plane's rule for handing an identity's keys to a new host (reliability.md, "Fencing"):
 * only once the previous holder's lease has expired by the control plane's own clock plus a clock-skew
 * margin, or once the cloud confirms the previous instance stopped (a Describe showed it Stopped or
 * gone: `hosts.stop_confirmed_at`, never a stop or delete call having been sent), or once the previous
 * holder's own agent acknowledged the stop (a planned move: fenced, it stopped its node, waited for
 * the process to exit, and promised never to run any generation up to the one it was last given;
 * `hosts.stop_acknowledged_generation`). The agent's stop is bounded by its lease end (a stop budget
 * inside the TTL, SIGKILL at its end), so the margin only has to cover the agents' clock-rate drift
 * over one TTL.
 *
 * Returns a boolean on purpose: an object would be truthy and invite `if (canGrantKeys(...))` bugs.
 */
export interface GrantKeysInput {
  /** Control plane clock, epoch ms (or Date). */
  now: number | Date;
  /** Lease expiry of the previous holder, by the control plane's clock; null when there was none. */
  previousLeaseExpiresAt: number | Date | null;
  skewMarginMs: number;
  /** The cloud API confirmed the previous instance stopped or deleted. */
  previousInstanceStopped: boolean;
  /**
   * The previous holder's agent, fenced, acknowledged that its node has exited and that it will never
   * run a generation up to the last one it was given (`acknowledgesStop` decides whether an ack counts).
   */
  previousStopAcknowledged?: boolean;
}

const ms = (t: number | Date): number => (t instanceof Date ? t.getTime() : t);

function check(input: GrantKeysInput): void {
  if (!Number.isFinite(input.skewMarginMs) || input.skewMarginMs < 0) {
    throw new RangeError(`skewMarginMs must be a finite number ≥ 0, got ${input.skewMarginMs}`);
  }
}

export function canGrantKeys(input: GrantKeysInput): boolean {
  check(input);
  if (input.previousInstanceStopped) return true;
  if (input.previousStopAcknowledged === true) return true;
  if (input.previousLeaseExpiresAt === null) return true;
  const now = ms(input.now);
  const safeAt = ms(input.previousLeaseExpiresAt) + input.skewMarginMs;
  // Fail closed on NaN (an invalid Date): the comparison is false.
  return now >= safeAt;
}

/** For a 425 answer: how long until canGrantKeys can become true by time alone (0 if it already is). */
export function keysRetryAfterMs(input: GrantKeysInput): number {
  if (canGrantKeys(input)) return 0;
  const wait = ms(input.previousLeaseExpiresAt!) + input.skewMarginMs - ms(input.now);
  return Number.isFinite(wait) ? Math.max(1, Math.ceil(wait)) : 1_000;
}

/**
 * Whether a stop acknowledgment from a host counts for `previousStopAcknowledged`: only from a host the
 * control plane has fenced (it is never given a generation again, so "none up to G" means "none"), and
 * only when it covers the last generation that host was given. A stale or early ack — sent for an older
 * generation before a re-arm gave it a newer one — covers nothing.
 */
export function acknowledgesStop(input: {
  fenced: boolean;
  /** The generation the control plane last gave this host; null when it never held the identity. */
  hostGeneration: number | null;
  /** The agent's promise: its node is down and it runs no generation ≤ this one, ever. */
  stoppedThroughGeneration: number;
}): boolean {
  if (!input.fenced) return false;
  if (!Number.isInteger(input.stoppedThroughGeneration)) return false;
  return input.hostGeneration === null || input.stoppedThroughGeneration >= input.hostGeneration;
}
