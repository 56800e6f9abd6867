import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { idempotencyResponseKey, openResponse, sealResponse } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import type { Principal } from '../auth/principal';
import { badRequest, Problem } from '../common/problem';
import { MASTER_KEY } from '../identities/identity.service';
import { requestFingerprint } from './canonical-json';

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
/** An in-flight claim older than this is taken as abandoned (its process died). */
const LOCK_MS = 60_000;

/**
 * `Idempotency-Key` on authenticated POSTs (IETF draft semantics, Stripe's 24 h): the first successful
 * response is stored in Postgres and replayed for the same key + same request; a different request with
 * the key → 422; the key still in flight → 409. A failed request releases its key (it changed nothing).
 * The stored body is sealed to its row (`sealResponse`): it may carry a new API key or webhook secret.
 * Routes get it through `@IdempotentPost()`, which wraps the handler in `run`.
 */
@Injectable()
export class IdempotencyService implements OnModuleDestroy {
  private readonly log = new Logger('idempotency');
  private readonly ttlMs: number;
  private readonly sealKey: Buffer;
  /** Expired keys are taken over on reuse anyway; this only keeps the table small. */
  private readonly janitor = setInterval(() => {
    this.repos.idempotency
      .purgeExpired()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'idempotency purge failed'));
  }, 3600_000).unref();

  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(MASTER_KEY) masterKey: Buffer,
  ) {
    this.ttlMs = config.publicApi.idempotencyTtlHours * 3600_000;
    this.sealKey = idempotencyResponseKey(masterKey);
  }

  onModuleDestroy(): void {
    clearInterval(this.janitor);
  }

  /**
   * Runs a POST handler's work under the request's `Idempotency-Key`, if it sent one. Only
   * `@IdempotentPost()` routes call it; unauthenticated ones (the agent's) have no key scope.
   */
  run<T>(
    req: Request & { principal?: Principal },
    res: Response,
    work: () => Promise<T>,
  ): Promise<T> {
    const raw = req.headers['idempotency-key'];
    if (!req.principal || raw === undefined) return work();
    const key = Array.isArray(raw) ? undefined : raw;
    if (!key || !KEY_RE.test(key)) {
      throw badRequest(
        'Idempotency-Key: send one header of 1–255 printable ASCII characters (a UUID is a good choice).',
      );
    }
    return this.claimed(req.principal.projectId, key, req, res, work);
  }

  private async claimed<T>(
    projectId: string,
    key: string,
    req: Request,
    res: Response,
    work: () => Promise<T>,
  ): Promise<T> {
    const path = req.originalUrl.split('?')[0] ?? req.path;
    const requestHash = requestFingerprint(req.method, path, req.body);
    const row = { projectId, key, method: req.method, path, requestHash };
    const claim = await this.repos.idempotency.begin({
      ...row,
      lockMs: LOCK_MS,
      ttlMs: this.ttlMs,
    });
    if (claim.kind === 'mismatch') {
      throw new Problem(
        422,
        'Unprocessable Content',
        'Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request.',
      );
    }
    if (claim.kind === 'in_flight') {
      res.setHeader('Retry-After', '1');
      throw new Problem(
        409,
        'Conflict',
        'A request with this Idempotency-Key is still being processed; retry shortly to get its result.',
      );
    }
    if (claim.kind === 'replay') {
      const body = this.opened({ ...row, status: claim.status }, claim.sealed);
      res.status(claim.status);
      res.setHeader('Idempotent-Replayed', 'true');
      return body as T;
    }
    try {
      const body = await work();
      const status = res.statusCode;
      const sealed = sealResponse(this.sealKey, { ...row, status }, body);
      await this.repos.idempotency.complete(projectId, key, status, sealed);
      return body;
    } catch (err) {
      await this.repos.idempotency
        .release(projectId, key)
        .catch((e: Error) =>
          this.log.warn({ err: e.message }, 'could not release an idempotency key'),
        );
      throw err;
    }
  }

  /**
   * A stored response that does not open (sealed under another master key, or altered) cannot be
   * replayed, and running the request again could do it twice: answer 500 and say why.
   */
  private opened(row: Parameters<typeof openResponse>[1], sealed: Buffer | null): unknown {
    try {
      if (!sealed) throw new Error('no stored body');
      return openResponse(this.sealKey, row, sealed);
    } catch (err) {
      this.log.error(
        { projectId: row.projectId, path: row.path, err: (err as Error).message },
        'a stored idempotent response does not open with this master key',
      );
      throw new Problem(
        500,
        'Internal Server Error',
        'The stored response for this Idempotency-Key cannot be read (was the master key changed?); it was not run again.',
      );
    }
  }
}
