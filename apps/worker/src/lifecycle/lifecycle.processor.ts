import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { createRedis, JOBS, PermanentError, QUEUES, type JobPayloads } from '@snowline/queue';
import { ProvisionService } from './provision.service';
import { RetireService } from './retire.service';
import { StandbyPoolService } from '../standby/standby-pool.service';

/**
 * Lifecycle jobs run at once per worker. Each holds its validator's lock on a session of its own
 * (an idle pool connection) while its work takes others: the worker's pool is sized past this.
 */
export const LIFECYCLE_CONCURRENCY = 16;

/** Thin processor: dispatch to a service; the error's type decides retry or fail. */
@Injectable()
export class LifecycleProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('lifecycle');
  private worker?: Worker;

  constructor(
    private readonly provision: ProvisionService,
    private readonly retire: RetireService,
    private readonly standby: StandbyPoolService,
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker(QUEUES.lifecycle, (job) => this.handle(job), {
      connection: createRedis(this.config.redisUrl),
      prefix: this.config.queuePrefix,
      concurrency: LIFECYCLE_CONCURRENCY,
    });
    this.worker.on('failed', (job, err) => void this.onFailed(job, err));
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'queue connection error'));
  }

  async handle(job: Job): Promise<void> {
    try {
      switch (job.name) {
        case JOBS.provision:
          return await this.provision.run((job.data as JobPayloads['provision']).validatorId);
        case JOBS.retire:
          return await this.retire.run((job.data as JobPayloads['retire']).validatorId);
        case JOBS.launchStandby:
          return await this.standby.launch((job.data as JobPayloads['launch-standby']).hostId);
        default:
          throw new PermanentError(`unknown job ${job.name}`);
      }
    } catch (err) {
      if (err instanceof PermanentError) throw new UnrecoverableError(err.message);
      throw err;
    }
  }

  /** A provision that can no longer succeed leaves the validator `failed` with a reason a human can act on. */
  private async onFailed(job: Job | undefined, err: Error): Promise<void> {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    this.log.warn(
      { job: job.name, id: job.id, attempt: job.attemptsMade, final, err: err.message },
      'job failed',
    );
    if (!final || job.name !== JOBS.provision) return;
    const { validatorId } = job.data as JobPayloads['provision'];
    await this.repos
      .transaction(async (tx) => {
        const v = await this.repos.validators.findById(validatorId, tx);
        if (
          v &&
          (await this.repos.validators.transition(
            validatorId,
            'failed',
            { stateReason: err.message },
            { from: ['pending', 'provisioning'], tx },
          ))
        ) {
          await this.repos.events.append(
            {
              type: 'validator.failed',
              message: `Provisioning failed: ${err.message}`,
              projectId: v.projectId,
              validatorId,
            },
            tx,
          );
        }
      })
      .catch((e: Error) => this.log.error({ err: e.message }, 'could not record the failure'));
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.worker) return;
    const conn = this.worker.opts.connection as { quit?: () => Promise<unknown> };
    await this.worker.close();
    await conn.quit?.().catch(() => undefined);
  }
}
