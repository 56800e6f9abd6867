import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { LifecycleQueue } from '@snowline/queue';
import { lockKey } from '../lifecycle/validator-lock';

/**
 * Postgres is the truth, queues are hints: every interval, re-derive the work the database says is
 * outstanding and enqueue it (deterministic job ids make this a no-op when the job already exists).
 * One leader at a time (advisory lock held on a dedicated connection).
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('reconciler');
  private timer?: NodeJS.Timeout;
  private running = false;
  private leader?: import('typeorm').QueryRunner;

  constructor(
    private readonly ds: DataSource,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.reconcileIntervalSeconds * 1000;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    void this.tick();
  }

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      if (!(await this.isLeader())) return 0;
      const stale = `now() - interval '${Math.max(1, Math.floor(this.config.reconcileIntervalSeconds))} seconds'`;
      const rows = (await this.ds.query(
        `SELECT id, state FROM validators
          WHERE (state IN ('pending', 'provisioning') OR state = 'retiring') AND updated_at < ${stale}
          ORDER BY updated_at LIMIT 1000`,
      )) as { id: string; state: string }[];
      for (const r of rows) {
        if (r.state === 'retiring') await this.queue.retire(r.id);
        else await this.queue.provision(r.id);
      }
      if (rows.length) this.log.log({ count: rows.length }, 're-enqueued outstanding work');
      return rows.length;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'reconcile pass failed');
      return 0;
    } finally {
      this.running = false;
    }
  }

  private async isLeader(): Promise<boolean> {
    if (this.leader && !this.leader.isReleased) return true;
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      lockKey('leader', 'reconciler'),
    ])) as [{ locked: boolean }];
    if (locked) {
      this.leader = runner;
      return true;
    }
    await runner.release();
    return false;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.leader && !this.leader.isReleased) await this.leader.release().catch(() => undefined);
  }
}
