import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Repositories } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { IdentityThreads } from './identity-generator';
import { IdentityService } from './identity.service';
import { loopUtilization, waitForQuietLoop } from './loop-pressure';

const IDLE_POLL_MS = 1000;
const ERROR_BACKOFF_MS = 2000;
/**
 * At or above this event-loop utilization the API is serving requests: generation waits. Low on
 * purpose: the key math runs on a nice-19 thread, yet on a 2-vCPU VM each identity made under load
 * was followed by a 35–120 ms stall of this event loop (why is not pinned down: a nice-19 child
 * process instead of the thread stalled it as much). With creates offered at a fixed 450/s: at 0.5
 * the generator ran flat out (≈ 0.3 ms of CPU per request, create p99 58–69 ms); at 0.2 it waits,
 * and p99 was 44–51 ms in the runs the machine was steady. An idle API sits at 0.01–0.05, so
 * generation still runs the moment load stops.
 */
const BUSY_LOOP = 0.2;
const YIELD_STEP_MS = 100;
/** Under sustained load, one identity at least every this long (the backlog never stalls). */
const MAX_YIELD_MS = 2000;

/**
 * Generated staking identities are made off the request path: `POST /v1/validators` stores the
 * validator `pending` without an identity (NodeID unknown) and nudges this loop, which generates the
 * identity on a low-priority worker thread, seals and attaches it in one transaction, and only then
 * enqueues provisioning. Postgres is the queue (`FOR UPDATE SKIP LOCKED`), so several API replicas
 * share the work and a crash loses nothing: the next pass finds the validator still waiting.
 */
@Injectable()
export class IdentityGeneratorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('identity-generator');
  private threads: IdentityThreads | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly loops: Promise<void>[] = [];
  private readonly utilization = loopUtilization();

  constructor(
    private readonly repos: Repositories,
    private readonly identities: IdentityService,
    private readonly queue: LifecycleQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.utilization(); // start measuring now: the busy boot is not request load
    this.threads = new IdentityThreads();
    const n = this.threads.threaded ? this.threads.size : 1;
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.nudge();
    await Promise.all(this.loops);
    await this.threads?.close();
  }

  /** A validator is waiting: start now rather than at the next poll. */
  nudge(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let worked = false;
      let failed = false;
      try {
        // The key math runs on a low-priority thread, but sealing, storing and enqueueing each
        // identity take this event loop: while requests keep it busy, they go first.
        await waitForQuietLoop(this.utilization, {
          busy: BUSY_LOOP,
          stepMs: YIELD_STEP_MS,
          maxMs: MAX_YIELD_MS,
          // A plain timer: a nudge (every create sends one) must not cut the wait short.
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          stopped: () => this.stopped,
        });
        worked = await this.generateOne();
      } catch (err) {
        failed = true;
        this.log.warn({ err: (err as Error).message }, 'identity generation failed; retrying');
      }
      if (!worked || failed) await this.sleep(failed ? ERROR_BACKOFF_MS : IDLE_POLL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const prev = this.wake;
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        prev?.();
        done();
      };
    });
  }

  /**
   * Generates and attaches one identity; false when nobody is waiting. The key math runs before the
   * transaction, which then only claims the oldest waiting validator, stores and attaches: a
   * transaction held open across generation (40+ ms, longer on a busy machine) held back every
   * snapshot's horizon, and with it the event feed, SSE and webhooks. If another replica served the
   * last waiting validator meanwhile, the identity is dropped unused.
   */
  async generateOne(): Promise<boolean> {
    if (!(await this.repos.validators.anyAwaitingIdentity())) return false;
    const threads = this.threads ?? new IdentityThreads(0);
    const identity = await threads.generate();
    let done: string | null;
    try {
      done = await this.repos.transaction(async (tx) => {
        const v = await this.repos.validators.claimAwaitingIdentity(tx);
        if (!v) return null;
        const row = await this.identities.store(v.projectId, identity, false, tx);
        if (!(await this.repos.validators.attachIdentity(v.id, row.id, row.nodeId, tx)))
          throw new Error(`validator ${v.id} left pending while its identity was attached`);
        await this.repos.events.append(
          {
            type: 'validator.identity_generated',
            message: `Staking identity ${row.nodeId} generated for validator ${v.name}`,
            projectId: v.projectId,
            validatorId: v.id,
            data: { nodeId: row.nodeId },
          },
          tx,
        );
        return v.id;
      });
    } finally {
      identity.signerKey.fill(0);
    }
    if (!done) return false;
    // Postgres already holds the truth; if Redis is down the reconciler enqueues it later.
    await this.queue
      .provision(done)
      .catch((err: Error) =>
        this.log.warn(
          { validatorId: done, err: err.message },
          'could not enqueue provision; the reconciler will',
        ),
      );
    return true;
  }
}
