import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { LeaderLeaseRepository, LeaseFence, LeaseSession } from '@snowline/persistence';

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
  private session?: LeaseSession;
  private generation?: number;
  private renewedAt = 0;
  private renewTimer?: NodeJS.Timeout;
  private renewing?: Promise<boolean>;

  constructor(
    private readonly leases: LeaderLeaseRepository,
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
    if (!this.session?.open) this.session = await this.leases.openSession();
    const sentAt = performance.now();
    let gen: number | null;
    try {
      gen = await this.leases.acquire(this.session, this.name, this.holder, this.ttlMs);
    } catch (err) {
      await this.dropSession();
      throw err;
    }
    if (gen === null) {
      await this.dropSession(); // followers hold no connection between attempts
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
    const session = this.session;
    this.lose();
    if (fence && session?.open) await this.leases.release(session, fence).catch(() => undefined);
    await this.dropSession();
  }

  private renew(): Promise<boolean> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    const fence = this.fence();
    const session = this.session;
    if (!fence || !session?.open) return false;
    const sentAt = performance.now();
    try {
      if (await this.leases.renew(session, fence, this.ttlMs)) {
        this.renewedAt = sentAt;
        return true;
      }
      this.lose('another worker took the lease');
    } catch (err) {
      this.lose(`renewal failed: ${(err as Error).message}`);
      await this.dropSession();
    }
    return false;
  }

  private lose(why?: string): void {
    if (this.generation !== undefined && why) this.onLost(why);
    this.generation = undefined;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async dropSession(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}
