import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { LifecycleQueue } from '@snowline/queue';
import { LeaderLoop } from '../lifecycle/leader-loop';

/**
 * Postgres is the truth, queues are hints: every interval, re-derive the work the database says is
 * outstanding and enqueue it (deterministic job ids make this a no-op when the job already exists).
 * One leader at a time (advisory lock held on a dedicated connection).
 */
@Injectable()
export class ReconcilerService extends LeaderLoop<number> {
  constructor(
    private readonly ds: DataSource,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(ds, 'reconciler', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.reconcileIntervalSeconds * 1000;
  }

  protected async round(): Promise<number> {
    const stale = `now() - interval '${Math.max(1, Math.floor(this.config.reconcileIntervalSeconds))} seconds'`;
    const rows = (await this.ds.query(
      `SELECT 'validator' AS kind, id, state FROM validators
        WHERE (state IN ('pending', 'provisioning', 'retiring') OR (state = 'failing_over' AND host_id IS NULL))
          AND updated_at < ${stale}
       UNION ALL
       SELECT 'standby', id, role FROM hosts
        WHERE role = 'standby' AND instance_id IS NULL AND deleted_at IS NULL AND created_at < ${stale}
       LIMIT 2000`,
    )) as { kind: 'validator' | 'standby'; id: string; state: string }[];
    for (const r of rows) {
      if (r.kind === 'standby') await this.queue.launchStandby(r.id);
      else if (r.state === 'retiring') await this.queue.retire(r.id);
      else await this.queue.provision(r.id);
    }
    if (rows.length) this.log.log({ count: rows.length }, 're-enqueued outstanding work');
    return rows.length;
  }
}
