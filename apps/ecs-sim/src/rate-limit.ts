import { SimApiError } from './sim-error';

export interface RateLimit {
  /** Sustained calls per second. */
  perSecond: number;
  /** Bucket size: calls allowed in a burst. */
  burst: number;
}

/** Per-action defaults when SIM_RATE_LIMITS is on; real ECS publishes no numbers, so these are modest. */
export const DEFAULT_RATE_LIMITS: Record<string, RateLimit> = {
  '*': { perSecond: 50, burst: 100 },
  RunInstances: { perSecond: 10, burst: 20 },
  DeleteInstances: { perSecond: 10, burst: 20 },
  DeleteInstance: { perSecond: 10, burst: 20 },
};

/** One token bucket per action; an empty bucket answers Throttling.User with x-acs-retry-after (ms). */
export class ActionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: Record<string, RateLimit>,
    private readonly now: () => number = Date.now,
  ) {}

  take(action: string): void {
    const limit = this.limits[action] ?? this.limits['*'];
    if (!limit) return;
    const now = this.now();
    const b = this.buckets.get(action) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    this.buckets.set(action, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const retryAfterMs = Math.ceil(((1 - b.tokens) / limit.perSecond) * 1000);
    throw new SimApiError(
      400,
      'Throttling.User',
      `Request was denied due to user flow control (${action}).`,
      { 'x-acs-retry-after': String(retryAfterMs) },
    );
  }
}
