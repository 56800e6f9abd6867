import type { DataSource, QueryRunner } from 'typeorm';
import { managerOf, type Tx } from './tx';

/**
 * A connection of the lease holder's own (one Postgres session): a lease taken on it is orphaned,
 * and free to take, once the session is gone (kill -9, a database restart).
 */
export interface LeaseSession {
  /** False once closed (or dropped by the pool); open a new one to lead again. */
  readonly open: boolean;
  close(): Promise<void>;
}

class RunnerSession implements LeaseSession {
  constructor(readonly runner: QueryRunner) {}
  get open(): boolean {
    return !this.runner.isReleased;
  }
  async close(): Promise<void> {
    if (!this.runner.isReleased) await this.runner.release().catch(() => undefined);
  }
}

const runnerOf = (s: LeaseSession): QueryRunner => (s as RunnerSession).runner;

/** What a leader passes to writes that matter: they commit only while this lease is still its own. */
export interface LeaseFence {
  name: string;
  holder: string;
  generation: number;
}

export interface LeaderLeaseRow {
  name: string;
  holder: string;
  generation: number;
  holderPid: number;
  expiresAt: Date;
  expired: boolean;
}

/**
 * Leader leases (table `leader_leases`), one row per background loop, timed by the database's clock
 * (`clock_timestamp()`) so that workers on several machines agree. A follower takes a lease that has
 * expired (a frozen holder stopped renewing) or whose holder's session is gone (a dead holder), and
 * the generation grows by one; a holder renews only the generation it took.
 */
export class LeaderLeaseRepository {
  constructor(private readonly ds: DataSource) {}

  /** A dedicated session for a holder to take and renew its leases on. */
  async openSession(): Promise<LeaseSession> {
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    return new RunnerSession(runner);
  }

  /** Takes the lease on `session` when free, expired or orphaned; its generation, or null. */
  async acquire(
    session: LeaseSession,
    name: string,
    holder: string,
    ttlMs: number,
  ): Promise<number | null> {
    const rows = (await runnerOf(session).query(
      `INSERT INTO leader_leases AS l
         (name, holder, generation, holder_pid, holder_backend_start, acquired_at, renewed_at, expires_at)
       SELECT $1, $2, 1, a.pid, a.backend_start, clock_timestamp(), clock_timestamp(),
              clock_timestamp() + $3 * interval '1 millisecond'
         FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()
       ON CONFLICT (name) DO UPDATE SET
         holder = EXCLUDED.holder, generation = l.generation + 1, holder_pid = EXCLUDED.holder_pid,
         holder_backend_start = EXCLUDED.holder_backend_start, acquired_at = EXCLUDED.acquired_at,
         renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
       WHERE l.expires_at < clock_timestamp()
          OR NOT EXISTS (SELECT 1 FROM pg_stat_activity s
                          WHERE s.pid = l.holder_pid AND s.backend_start = l.holder_backend_start)
       RETURNING generation`,
      [name, holder, ttlMs],
    )) as { generation: number }[];
    return rows[0]?.generation ?? null;
  }

  /**
   * Extends the lease by `ttlMs` from now, only for the generation the holder took: false when
   * another holder took it meanwhile (this one was frozen or cut off past its expiry).
   */
  async renew(session: LeaseSession, fence: LeaseFence, ttlMs: number): Promise<boolean> {
    const rows = (await runnerOf(session).query(
      `UPDATE leader_leases SET renewed_at = clock_timestamp(),
              expires_at = clock_timestamp() + $4 * interval '1 millisecond'
        WHERE name = $1 AND holder = $2 AND generation = $3
        RETURNING 1 AS ok`,
      [fence.name, fence.holder, fence.generation, ttlMs],
    )) as unknown[];
    // A raw UPDATE through a QueryRunner answers [rows, count].
    return flatRows(rows).length > 0;
  }

  /**
   * Inside a transaction: true while the fence's lease is current, and the row stays share-locked
   * until commit, so no follower can take the lease between this check and the transaction's writes.
   */
  async holds(tx: Tx, fence: LeaseFence): Promise<boolean> {
    const rows = (await managerOf(tx).query(
      `SELECT 1 AS ok FROM leader_leases
        WHERE name = $1 AND holder = $2 AND generation = $3 AND expires_at > clock_timestamp()
        FOR SHARE`,
      [fence.name, fence.holder, fence.generation],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Gives the lease up at once (a clean shutdown), so a follower need not wait for its expiry. */
  async release(session: LeaseSession, fence: LeaseFence): Promise<void> {
    await runnerOf(session).query(
      `UPDATE leader_leases SET expires_at = clock_timestamp()
        WHERE name = $1 AND holder = $2 AND generation = $3`,
      [fence.name, fence.holder, fence.generation],
    );
  }

  /** Every lease, for tests and operators: who leads which loop. */
  async list(): Promise<LeaderLeaseRow[]> {
    const rows = (await this.ds.query(
      `SELECT name, holder, generation, holder_pid, expires_at,
              expires_at < clock_timestamp() AS expired
         FROM leader_leases ORDER BY name`,
    )) as {
      name: string;
      holder: string;
      generation: number;
      holder_pid: number;
      expires_at: Date;
      expired: boolean;
    }[];
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      generation: r.generation,
      holderPid: r.holder_pid,
      expiresAt: new Date(r.expires_at),
      expired: r.expired,
    }));
  }
}

function flatRows(result: unknown[]): unknown[] {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number'
    ? (result[0] as unknown[])
    : result;
}
