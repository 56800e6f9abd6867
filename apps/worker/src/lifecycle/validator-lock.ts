import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DataSource, QueryRunner } from 'typeorm';
import { LeaderLeaseRepository, type LeaseFence } from '@snowline/persistence';

/** Stable 63-bit advisory-lock key for a validator id. */
export function lockKey(scope: string, id: string): string {
  const h = createHash('sha256').update(`${scope}:${id}`).digest();
  return (h.readBigInt64BE(0) & 0x7fffffffffffffffn).toString();
}

/** How long a frozen worker may keep a validator's job lock when nobody says otherwise. */
export const DEFAULT_LOCK_BOUND_MS = 30_000;

/**
 * Runs fn while holding a session advisory lock for the validator, so that two copies of a job
 * (BullMQ is at-least-once) never work on one validator at once. Returns undefined when another
 * runner holds the lock: that runner does the work.
 *
 * The lock's session is bounded: it sets `idle_session_timeout` to `boundMs` and is pinged every
 * third of it while fn runs, so a worker frozen by SIGSTOP (its kernel keeps the socket open and
 * answers TCP keepalives) loses the lock after `boundMs`, and the job's next copy can run.
 */
export async function withValidatorLock<T>(
  ds: DataSource,
  validatorId: string,
  fn: () => Promise<T>,
  boundMs = DEFAULT_LOCK_BOUND_MS,
): Promise<T | undefined> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  const key = lockKey('validator', validatorId);
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    await runner.query(`SET idle_session_timeout = ${Math.max(1000, Math.round(boundMs))}`);
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      key,
    ])) as [{ locked: boolean }];
    if (!locked) return undefined;
    heartbeat = setInterval(
      () => void runner.query('SELECT 1').catch(() => undefined),
      Math.max(300, boundMs / 3),
    );
    heartbeat.unref();
    try {
      return await fn();
    } finally {
      clearInterval(heartbeat);
      // The session may be gone (bounded out while frozen, or a database restart): so is the lock.
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
    }
  } finally {
    clearInterval(heartbeat);
    // Back to the pool without the timeout; a dead session is dropped by the pool.
    await runner.query('RESET idle_session_timeout').catch(() => undefined);
    await runner.release().catch(() => undefined);
  }
}

/**
 * Leadership for single-runner loops (every LeaderLoop): a lease row per loop (`leader_leases`),
 * taken and renewed on a dedicated connection, timed by the database's clock. A dead holder's lease
 * (its session gone: kill -9, a database restart) is taken at a follower's next attempt; a frozen
 * holder's (SIGSTOP: its session lingers) once it expires, `ttlMs` after its last renewal. The
 * holder renews every third of the TTL on its own timer, apart from rounds, and counts itself leader
 * only while its last renewal, by its own monotonic clock (which runs on while the process is
 * stopped), is younger than the TTL: a resumed ex-leader knows at once that it may no longer act.
 */
export class LeaderLock {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly leases = new LeaderLeaseRepository();
  private runner?: QueryRunner;
  private generation?: number;
  private renewedAt = 0;
  private renewTimer?: NodeJS.Timeout;
  private renewing?: Promise<boolean>;

  constructor(
    private readonly ds: DataSource,
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly onLost: (why: string) => void = () => undefined,
  ) {}

  /** True while this process holds the lease by its own clock (cheap: no database round trip). */
  leading(): boolean {
    return this.generation !== undefined && performance.now() - this.renewedAt < this.ttlMs;
  }

  /** The lease this process holds, for writes that must commit only under it. */
  fence(): LeaseFence | undefined {
    return this.generation === undefined
      ? undefined
      : { name: this.name, holder: this.holder, generation: this.generation };
  }

  /** Holds (renews) or takes the lease; true when this process leads the loop now. */
  async acquire(): Promise<boolean> {
    if (this.generation !== undefined && (await this.renew())) return true;
    if (!this.runner || this.runner.isReleased) {
      const runner = this.ds.createQueryRunner();
      await runner.connect();
      this.runner = runner;
    }
    const sentAt = performance.now();
    let gen: number | null;
    try {
      gen = await this.leases.acquire(this.runner, this.name, this.holder, this.ttlMs);
    } catch (err) {
      await this.dropRunner();
      throw err;
    }
    if (gen === null) {
      await this.dropRunner(); // followers hold no connection between attempts
      return false;
    }
    this.generation = gen;
    this.renewedAt = sentAt;
    this.renewTimer ??= setInterval(() => void this.renew(), Math.max(100, this.ttlMs / 3));
    this.renewTimer.unref();
    return true;
  }

  async release(): Promise<void> {
    const fence = this.fence();
    const runner = this.runner;
    this.lose();
    if (fence && runner && !runner.isReleased)
      await this.leases.release(runner, fence).catch(() => undefined);
    await this.dropRunner();
  }

  private renew(): Promise<boolean> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    const fence = this.fence();
    const runner = this.runner;
    if (!fence || !runner || runner.isReleased) return false;
    const sentAt = performance.now();
    try {
      if (await this.leases.renew(runner, fence, this.ttlMs)) {
        this.renewedAt = sentAt;
        return true;
      }
      this.lose('another worker took the lease');
    } catch (err) {
      this.lose(`renewal failed: ${(err as Error).message}`);
      await this.dropRunner();
    }
    return false;
  }

  private lose(why?: string): void {
    if (this.generation !== undefined && why) this.onLost(why);
    this.generation = undefined;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async dropRunner(): Promise<void> {
    const r = this.runner;
    this.runner = undefined;
    if (r && !r.isReleased) await r.release().catch(() => undefined);
  }
}
