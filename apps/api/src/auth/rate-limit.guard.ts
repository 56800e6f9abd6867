import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Problem } from '../common/problem';
import type { Principal } from './principal';
import { TokenBuckets } from './token-bucket';

/**
 * Per-API-key token bucket (RATE_LIMIT_RPS sustained, RATE_LIMIT_BURST burst). In-process: with N API
 * replicas a key gets up to N× the rate — acceptable for abuse protection, not for billing.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly rps: number;
  private readonly buckets: TokenBuckets;

  /** Injected clock (tests replace it). */
  now: () => number = () => Date.now();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.rps = config.publicApi.rateLimitRps;
    this.buckets = new TokenBuckets(this.rps, config.publicApi.rateLimitBurst, () => this.now());
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.rps <= 0) return true;
    const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
    if (!req.principal) return true; // public route
    const wait = this.take(req.principal.keyId);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new Problem(
        429,
        'Too Many Requests',
        `This API key sent more than ${this.rps} requests per second; retry after ${seconds} s.`,
        { retryAfterSeconds: seconds },
      );
    }
    return true;
  }

  /** Takes a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(key: string): number {
    return this.buckets.take(key);
  }
}
