import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Problem } from '../common/problem';
import type { Principal } from './principal';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-API-key token bucket (RATE_LIMIT_RPS sustained, RATE_LIMIT_BURST burst). In-process: with N API
 * replicas a key gets up to N× the rate — acceptable for abuse protection, not for billing.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets = new Map<string, Bucket>();
  private readonly rps: number;
  private readonly burst: number;

  /** Injected clock (tests replace it). */
  now: () => number = () => Date.now();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.rps = config.publicApi.rateLimitRps;
    this.burst = config.publicApi.rateLimitBurst;
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.rps <= 0) return true;
    const req = ctx.switchToHttp().getRequest<{ principal?: Principal }>();
    if (!req.principal) return true; // public route
    const res = ctx.switchToHttp().getResponse<Response>();
    const wait = this.take(req.principal.keyId);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      res.setHeader('Retry-After', String(seconds));
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
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rps);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.buckets.clear(); // bounded memory under key churn
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / this.rps) * 1000;
  }
}
