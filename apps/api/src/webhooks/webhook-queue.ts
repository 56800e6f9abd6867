import { Queue } from 'bullmq';
import type IORedis from 'ioredis';
import { QUEUES, WEBHOOK_JOBS, webhookJobId, type WebhookDeliverPayload } from '@snowline/queue';

/** Producer side of the `webhooks` queue. The delivery row is the truth; a lost job is re-enqueued. */
export class WebhookQueue {
  readonly queue: Queue<WebhookDeliverPayload>;
  constructor(
    readonly connection: IORedis,
    prefix: string,
  ) {
    this.queue = new Queue<WebhookDeliverPayload>(QUEUES.webhooks, { connection, prefix });
  }

  async deliver(deliveryId: string, attempt: number, delayMs = 0): Promise<void> {
    await this.queue.add(
      WEBHOOK_JOBS.deliver,
      { deliveryId },
      {
        jobId: webhookJobId(deliveryId, attempt),
        delay: delayMs,
        attempts: 1, // retries are explicit, delayed jobs per attempt (see WebhookDeliveryService)
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      },
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
  }
}
