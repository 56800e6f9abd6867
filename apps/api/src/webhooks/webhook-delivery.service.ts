import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, type DeliveryAttempt } from '@snowline/persistence';
import { createRedis, QUEUES, type WebhookDeliverPayload } from '@snowline/queue';
import { MetricsService } from '../metrics/metrics.service';
import { signatureHeaders } from './signature';
import { postWebhook } from './webhook-target';
import { WebhookQueue } from './webhook-queue';
import { WebhooksService } from './webhooks.service';

const FANOUT_BATCH = 500;
const SWEEP_EVERY_MS = 10_000;
const MAX_DELAY_MS = 3600_000;

/**
 * Turns events into signed webhook deliveries and sends them.
 * - Fan-out: a durable cursor over the commit-ordered event feed (one replica at a time, row lock)
 *   writes one delivery row per (webhook, event), then enqueues a job per delivery.
 * - Delivery: a BullMQ worker in the api process (apps/worker may take it over); each retry is a delayed
 *   job for the next attempt number, and Postgres records every attempt, so a lost job is re-enqueued
 *   by the sweep and a duplicate job finds the attempt already recorded.
 */
@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('webhook-delivery');
  private worker: Worker<WebhookDeliverPayload> | null = null;
  private fanoutTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly repos: Repositories,
    private readonly queue: WebhookQueue,
    private readonly webhooks: WebhooksService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<WebhookDeliverPayload>(QUEUES.webhooks, (job) => this.process(job), {
      connection: createRedis(this.config.redisUrl),
      prefix: this.config.queuePrefix,
      concurrency: 16,
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'webhook worker error'));
    this.scheduleFanout(0);
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.fanoutTimer) clearTimeout(this.fanoutTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.worker) {
      const conn = this.worker.opts.connection as { quit?: () => Promise<unknown> };
      await this.worker.close();
      await conn.quit?.().catch(() => undefined);
    }
    await this.queue.close();
  }

  private scheduleFanout(ms: number): void {
    if (this.stopped) return;
    this.fanoutTimer = setTimeout(() => void this.fanoutOnce(), ms);
    this.fanoutTimer.unref();
  }

  /** One fan-out step; exported for tests through the public API only. */
  async fanoutOnce(): Promise<void> {
    let more = false;
    try {
      const { deliveryIds, events } = await this.repos.eventFeed.fanOutToWebhooks(FANOUT_BATCH);
      for (const id of deliveryIds) await this.queue.deliver(id, 0);
      more = events === FANOUT_BATCH;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'webhook fan-out failed; retrying');
    }
    this.scheduleFanout(more ? 0 : this.config.publicApi.eventsPollMs);
  }

  /** Re-enqueues pending deliveries whose job was lost (Redis flush, failed enqueue). */
  private async sweep(): Promise<void> {
    try {
      for (const d of await this.repos.webhooks.overdue(SWEEP_EVERY_MS, 500)) {
        await this.queue.deliver(d.id, d.attempts);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'webhook sweep failed');
    }
  }

  async process(job: Job<WebhookDeliverPayload>): Promise<void> {
    const d = await this.repos.webhooks.findDelivery(job.data.deliveryId);
    if (!d || d.status !== 'pending') return;
    const w = await this.repos.webhooks.findById(d.webhookId);
    const attemptNo = d.attempts + 1;
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    if (!w || w.deletedAt || !w.enabled) {
      error = 'webhook deleted or disabled';
    } else {
      const body = JSON.stringify(d.payload);
      const ts = Math.floor(Date.now() / 1000);
      // One id per message across retries (the event id; a test ping has none, so its delivery id).
      const msgId = d.eventId ?? d.id;
      try {
        statusCode = await postWebhook(
          w.url,
          {
            'content-type': 'application/json',
            'user-agent': 'Snowline-Webhooks/1',
            ...signatureHeaders(this.webhooks.secretOf(w), msgId, ts, body),
            'Snowline-Delivery-Id': d.id,
            'Snowline-Event-Id': d.eventId ?? '',
            'Snowline-Event-Type': d.eventType,
          },
          body,
          {
            timeoutMs: this.config.webhooks.timeoutMs,
            allowPrivate: this.config.webhooks.allowPrivateTargets,
          },
        );
        if (statusCode < 200 || statusCode >= 300) error = `receiver answered HTTP ${statusCode}`;
      } catch (err) {
        const name = (err as Error).name;
        error = (
          name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : (err as Error).message
        )
          .toString()
          .slice(0, 300);
      }
    }
    const attempt: DeliveryAttempt = {
      attempt: attemptNo,
      at: new Date(started).toISOString(),
      statusCode,
      error,
      durationMs: Date.now() - started,
    };
    const giveUp =
      !w || !!w.deletedAt || !w.enabled || attemptNo >= this.config.webhooks.maxAttempts;
    const delay = Math.min(MAX_DELAY_MS, this.config.webhooks.retryBaseMs * 2 ** (attemptNo - 1));
    const outcome = !error
      ? { status: 'succeeded' as const }
      : giveUp
        ? { status: 'failed' as const }
        : { status: 'pending' as const, nextAttemptAt: new Date(Date.now() + delay) };
    const recorded = await this.repos.webhooks.recordAttempt(d.id, attempt, outcome, d.attempts);
    this.metrics.webhookDeliveries.inc({ result: error ? 'failure' : 'success' });
    if (!recorded) return; // a duplicate job recorded this attempt first
    if (error) {
      this.log.warn(
        { deliveryId: d.id, webhookId: d.webhookId, attempt: attemptNo, statusCode, error },
        outcome.status === 'failed'
          ? 'webhook delivery failed for good'
          : 'webhook delivery failed; will retry',
      );
    }
    if (outcome.status === 'pending') await this.queue.deliver(d.id, attemptNo, delay);
  }
}
