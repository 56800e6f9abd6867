import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Stable 63-bit advisory-lock key for a validator id. */
export function lockKey(scope: string, id: string): string {
  const h = createHash('sha256').update(`${scope}:${id}`).digest();
  return (h.readBigInt64BE(0) & 0x7fffffffffffffffn).toString();
}

/**
 * Runs fn while holding a session advisory lock for the validator, so that two copies of a job
 * (BullMQ is at-least-once) never work on one validator at once. Returns undefined when another
 * runner holds the lock: that runner does the work.
 */
export async function withValidatorLock<T>(
  ds: DataSource,
  validatorId: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  const key = lockKey('validator', validatorId);
  try {
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      key,
    ])) as [{ locked: boolean }];
    if (!locked) return undefined;
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Leadership for single-runner loops (every LeaderLoop): a session advisory lock held on a
 * dedicated connection. If this process dies, Postgres drops the session and another worker takes over
 * at its next attempt.
 */
export class LeaderLock {
  private runner?: import('typeorm').QueryRunner;

  constructor(
    private readonly ds: DataSource,
    private readonly name: string,
  ) {}

  async acquire(): Promise<boolean> {
    if (this.runner && !this.runner.isReleased) {
      try {
        await this.runner.query('SELECT 1');
        return true;
      } catch {
        await this.release(); // the connection died: our lock died with it
      }
    }
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      lockKey('leader', this.name),
    ])) as [{ locked: boolean }];
    if (locked) {
      this.runner = runner;
      return true;
    }
    await runner.release();
    return false;
  }

  async release(): Promise<void> {
    const r = this.runner;
    this.runner = undefined;
    if (r && !r.isReleased) await r.release().catch(() => undefined);
  }
}
