interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key: `rate` tokens a second, at most `burst`. In-process and bounded (cleared past
 * 100,000 keys): abuse protection per API replica, not accounting.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Takes a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(key: string): number {
    const wait = this.wait(key);
    if (wait === 0) this.buckets.get(key)!.tokens -= 1;
    return wait;
  }

  /** 0 when `key` has a token now (taking none), else the milliseconds until it has one. */
  wait(key: string): number {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) {
      this.buckets.clear(); // bounded memory under key churn
      this.buckets.set(key, b);
    }
    return b.tokens >= 1 ? 0 : ((1 - b.tokens) / this.rate) * 1000;
  }
}
