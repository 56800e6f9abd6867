import { Injectable } from '@nestjs/common';
import type { Scope } from './principal';

export interface CachedKey {
  keyId: string;
  projectId: string;
  scopes: Scope[];
}

/** How long a looked-up key is trusted without asking Postgres again (the cross-replica revoke latency). */
export const API_KEY_CACHE_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Active API keys by the sha-256 of their secret, for API_KEY_CACHE_TTL_MS. A revoke in this process
 * evicts at once; another replica stops accepting the key within the TTL. Unknown keys are not cached
 * (a key created a moment ago must work at once).
 */
@Injectable()
export class ApiKeyCache {
  private readonly entries = new Map<string, CachedKey & { until: number }>();
  /** Injected clock (tests replace it). */
  now: () => number = () => Date.now();

  get(secretHash: string): CachedKey | undefined {
    const e = this.entries.get(secretHash);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(secretHash);
      return undefined;
    }
    return e;
  }

  set(secretHash: string, key: CachedKey): void {
    if (this.entries.size >= MAX_ENTRIES) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(secretHash, { ...key, until: this.now() + API_KEY_CACHE_TTL_MS });
  }

  evictKey(keyId: string): void {
    for (const [hash, e] of this.entries) if (e.keyId === keyId) this.entries.delete(hash);
  }
}
