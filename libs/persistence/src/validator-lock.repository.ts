import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Stable 63-bit advisory-lock key for a validator id. */
function lockKey(scope: string, id: string): string {
  const h = createHash('sha256').update(`${scope}:${id}`).digest();
  return (h.readBigInt64BE(0) & 0x7fffffffffffffffn).toString();
}

/** How long a frozen worker may keep a validator's job lock when nobody says otherwise. */
export const DEFAULT_LOCK_BOUND_MS = 30_000;

/** Per-validator job locks: Postgres session advisory locks on a connection of their own. */
export class ValidatorLockRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Runs fn while holding a session advisory lock for the validator, so that two copies of a job
   * (BullMQ is at-least-once) never work on one validator at once. Returns undefined when another
   * runner holds the lock: that runner does the work.
   *
   * The lock's session is bounded: it sets `idle_session_timeout` to `boundMs` and is pinged every
   * third of it while fn runs, so a worker frozen by SIGSTOP (its kernel keeps the socket open and
   * answers TCP keepalives) loses the lock after `boundMs`, and the job's next copy can run.
   */
  async withLock<T>(
    validatorId: string,
    fn: () => Promise<T>,
    boundMs = DEFAULT_LOCK_BOUND_MS,
  ): Promise<T | undefined> {
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    const key = lockKey('validator', validatorId);
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      await runner.query(`SET idle_session_timeout = ${Math.max(1000, Math.round(boundMs))}`);
      const [{ locked }] = (await runner.query(
        'SELECT pg_try_advisory_lock($1::bigint) AS locked',
        [key],
      )) as [{ locked: boolean }];
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
}
