import { Queue } from 'bullmq';
import type IORedis from 'ioredis';
import { jobId, JOBS, QUEUES, type JobName, type JobPayloads } from './contract';

export const DEFAULT_JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true, // so a re-enqueue with the same jobId is accepted once the job is done
  removeOnFail: { age: 24 * 3600 },
} as const;

/** The producer side of the lifecycle queue. Queues are hints: Postgres holds the truth. */
export class LifecycleQueue {
  readonly queue: Queue;
  constructor(connection: IORedis, prefix: string) {
    this.queue = new Queue(QUEUES.lifecycle, { connection, prefix });
  }

  /**
   * Adds the job unless the same job is already waiting or running. A finished (or failed — e.g.
   * stalled past BullMQ's limit when a worker died) job of the same id is replaced: a deterministic
   * id must never block the reconciler from re-deriving work.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], attempt = 0): Promise<void> {
    const id = jobId(name, payload, attempt);
    const existing = await this.queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      await existing.remove().catch(() => undefined);
    }
    await this.queue.add(name, payload, { ...DEFAULT_JOB_OPTIONS, jobId: id });
  }

  provision(validatorId: string, attempt = 0) {
    return this.enqueue(JOBS.provision, { validatorId }, attempt);
  }
  launchStandby(hostId: string) {
    return this.enqueue(JOBS.launchStandby, { hostId });
  }
  retire(validatorId: string) {
    return this.enqueue(JOBS.retire, { validatorId });
  }
  close() {
    return this.queue.close();
  }
}
