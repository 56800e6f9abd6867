import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { IdentityVault, Repositories } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { IdentityThreads } from './identity-threads';

/** How often an idle generator looks for validators waiting for an identity. */
export const IDLE_POLL_MS = 500;
const ERROR_BACKOFF_MS = 2000;

/**
 * Generated staking identities are made by the worker, off the API: `POST /v1/validators` stores the
 * validator `pending` without an identity (NodeID unknown) and answers; this loop finds it (it looks
 * every IDLE_POLL_MS while idle, at once after each identity), generates the identity on a
 * low-priority thread, seals and attaches it in one short transaction, and only then enqueues
 * provisioning. Postgres is the queue (`FOR UPDATE SKIP LOCKED`), so several workers share the work
 * and a crash loses nothing: the next pass finds the validator still waiting. The key math (~40 ms
 * of CPU an identity) used to run inside the API process, where even on a nice-19 thread it took
 * the request tail up on a small machine; in the worker it competes with no request.
 */
@Injectable()
export class IdentityGeneratorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('identity-generator');
  private threads: IdentityThreads | null = null;
  private stopped = false;
  private readonly sleepers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly repos: Repositories,
    @Inject(IdentityVault) private readonly vault: IdentityVault,
    private readonly queue: LifecycleQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.threads = new IdentityThreads();
    const n = this.threads.threaded ? this.threads.size : 1;
    for (let i = 0; i < n; i++) this.loops.push(this.loop(i));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    // Closing the threads first fails a generation under way, so no loop waits for one to finish.
    await this.threads?.close();
    await Promise.all(this.loops);
  }

  /** Loop `i` (one per thread) works while more than `i` validators wait: one wait, one identity. */
  private async loop(i: number): Promise<void> {
    while (!this.stopped) {
      let worked = false;
      let failed = false;
      try {
        worked = await this.generateOne(i);
      } catch (err) {
        failed = true;
        if (!this.stopped)
          this.log.warn({ err: (err as Error).message }, 'identity generation failed; retrying');
      }
      if (!worked || failed) await this.sleep(failed ? ERROR_BACKOFF_MS : IDLE_POLL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /**
   * Generates and attaches one identity; false when no more than `loop` validators are waiting (so
   * one waiting validator keeps one of this worker's loops busy, not all). The key math runs before the
   * transaction, which then only claims the oldest waiting validator, stores and attaches: a
   * transaction held open across generation (40+ ms, longer on a busy machine) held back every
   * snapshot's horizon, and with it the event feed, SSE and webhooks. If another worker served the
   * last waiting validator meanwhile, the identity is dropped unused.
   */
  async generateOne(loop = 0): Promise<boolean> {
    if ((await this.repos.validators.countAwaitingIdentity(loop + 1)) <= loop) return false;
    const threads = this.threads ?? new IdentityThreads(0);
    const identity = await threads.generate();
    let done: string | null;
    try {
      done = await this.repos.transaction(async (tx) => {
        const v = await this.repos.validators.claimAwaitingIdentity(tx);
        if (!v) return null;
        const row = await this.vault.store(v.projectId, identity, false, tx);
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
