import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { LeaderLoop } from '../lifecycle/leader-loop';

/**
 * Postgres is the truth, queues are hints: every interval, re-derive the work the database says is
 * outstanding and enqueue it (deterministic job ids make this a no-op when the job already exists).
 * One leader at a time (its LeaderLoop lease).
 */
@Injectable()
export class ReconcilerService extends LeaderLoop<number> {
  constructor(
    private readonly repos: Repositories,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'reconciler', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.reconcileIntervalSeconds * 1000;
  }

  protected async round(): Promise<number> {
    const rows = await this.repos.validators.outstandingWork(this.config.reconcileIntervalSeconds);
    for (const r of rows) {
      if (r.kind === 'standby') await this.queue.launchStandby(r.id);
      else if (r.state === 'retiring') await this.queue.retire(r.id);
      else await this.queue.provision(r.id);
    }
    if (rows.length) this.log.log({ count: rows.length }, 're-enqueued outstanding work');
    return rows.length;
  }
}
