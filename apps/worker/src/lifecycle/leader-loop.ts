import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { LeaderLeaseRepository, LeaseFence } from '@snowline/persistence';
import { LeaderLock } from './leader-lock';

/**
 * The one primitive every background loop runs on (health detection, with remediation in its
 * round; the move watchdog; standby refill; the reaper; the reconciler), as Cluster API runs each
 * controller on one manager: a round every `intervalMs()` (measured from the start of the previous
 * round, never overlapping), only while this process holds the loop's lease (`leader_leases`, see
 * LeaderLock). A loop has its own lease, so two workers may lead different loops; a dead worker's
 * leases are free to take at once (their sessions died with it).
 */
export abstract class LeaderLoop<T = unknown>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  protected readonly log: Logger;
  private readonly leader: LeaderLock;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private stopped = false;

  protected constructor(
    leases: LeaderLeaseRepository,
    readonly loopName: string,
    leaseMs: number,
  ) {
    this.log = new Logger(loopName);
    this.leader = new LeaderLock(leases, loopName, leaseMs, (why) =>
      this.log.warn({ why }, `${loopName}: leadership lost`),
    );
  }

  /** Whether this process leads the loop now, by its own clock (no database round trip). */
  leading(): boolean {
    return this.leader.leading();
  }

  /**
   * The lease to pass to a write that must not commit once another worker leads (a move's start).
   * When this process does not lead by its own clock, a fence no write accepts (generation -1).
   */
  protected fence(): LeaseFence {
    const f = this.leader.leading() ? this.leader.fence() : undefined;
    return f ?? { name: this.loopName, holder: this.leader.holder, generation: -1 };
  }

  /** This loop's lease holder id (host:pid:random), as written in `leader_leases.holder`. */
  get holder(): string {
    return this.leader.holder;
  }

  /** How long from the start of one round to the start of the next. */
  protected abstract intervalMs(): number;

  /** One round's work, run only by the leader. Errors are logged; the loop goes on. */
  protected abstract round(): Promise<T>;

  /** Set false by a loop that only runs when called (tests, benchmarks). */
  protected autoStart(): boolean {
    return true;
  }

  onApplicationBootstrap(): void {
    if (!this.autoStart()) return;
    const loop = async () => {
      if (this.stopped) return;
      const t0 = Date.now();
      await this.tick();
      const wait = Math.max(100, this.intervalMs() - (Date.now() - t0));
      if (!this.stopped) {
        this.timer = setTimeout(() => void loop(), wait);
        this.timer.unref();
      }
    };
    void loop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.leader.release();
  }

  /**
   * One round if this process leads the loop and no round is under way; null otherwise (or when the
   * round failed: the error is logged, never thrown, so a loop survives a database blip).
   */
  async tick(): Promise<T | null> {
    if (this.busy || this.stopped) return null;
    this.busy = true;
    try {
      if (!(await this.leader.acquire())) return null;
      return await this.round();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, `${this.loopName} round failed`);
      return null;
    } finally {
      this.busy = false;
    }
  }
}
