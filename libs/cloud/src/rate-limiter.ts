import { Throttled } from './errors';

export interface BucketLimit {
  /** Sustained calls per second. */
  perSecond: number;
  /** Calls allowed in a burst (bucket size). */
  burst: number;
}

/** Per-action limits; `'*'` applies to actions not named. An absent limit means unlimited. */
export type RateLimits = Record<string, BucketLimit>;

interface Bucket {
  tokens: number;
  at: number;
  /** Set when the cloud told us to back off (x-acs-retry-after). */
  blockedUntil: number;
}

/**
 * Client-side token buckets per (region, action). A caller waits for a token up to `maxWaitMs`;
 * past that it gets Throttled, so a job can be retried later instead of piling up in memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits | null,
    private readonly opts: {
      maxWaitMs?: number;
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ) {}

  private limitFor(action: string): BucketLimit | undefined {
    return this.limits?.[action] ?? this.limits?.['*'];
  }

  private bucket(key: string, limit: BucketLimit | undefined, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: limit?.burst ?? 0, at: now, blockedUntil: 0 };
      this.buckets.set(key, b);
    }
    if (limit) {
      b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    }
    b.at = now;
    return b;
  }

  /** Takes one token for (region, action), waiting as needed. */
  async acquire(region: string, action: string): Promise<void> {
    const now = this.opts.now ?? Date.now;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const maxWait = this.opts.maxWaitMs ?? 10_000;
    const key = `${region}/${action}`;
    const limit = this.limitFor(action);
    const start = now();
    for (;;) {
      const t = now();
      const b = this.bucket(key, limit, t);
      let waitMs = Math.max(0, b.blockedUntil - t);
      if (waitMs === 0) {
        if (!limit) return;
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return;
        }
        waitMs = Math.ceil(((1 - b.tokens) / limit.perSecond) * 1000);
      }
      if (t - start + waitMs > maxWait) {
        throw new Throttled(
          `client-side rate limit for ${action} in ${region}`,
          waitMs,
          'Throttling.Client',
        );
      }
      await sleep(waitMs);
    }
  }

  /** The cloud throttled us: hold every call of this action until the retry-after passes. */
  backOff(region: string, action: string, retryAfterMs: number): void {
    const t = (this.opts.now ?? Date.now)();
    const b = this.bucket(`${region}/${action}`, this.limitFor(action), t);
    b.blockedUntil = Math.max(b.blockedUntil, t + retryAfterMs);
  }
}
