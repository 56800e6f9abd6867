import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';

/** Rows one DELETE may take: short locks, a bounded WAL burst. */
export const RETENTION_BATCH = 5_000;
/** DELETEs per table and round: at most 20,000 rows a table a minute, ~1.2 M an hour. */
export const RETENTION_STATEMENTS = 4;
const INTERVAL_MS = 60_000;

export interface RetentionStats {
  events: number;
  webhookDeliveries: number;
  hosts: number;
  launchBatches: number;
  /** Some table filled every statement: more has aged out than this round took. */
  backlog: boolean;
}

/**
 * Bounded growth (issue 20, point 6): once a minute deletes events and finished webhook deliveries
 * older than EVENTS_RETENTION_DAYS, deleted hosts older than HOST_HISTORY_RETENTION_DAYS and launch
 * batches no host names any more, in batches of RETENTION_BATCH rows. What may be deleted is decided
 * in RetentionRepository. Expired idempotency keys are purged by the API (IdempotencyService).
 */
@Injectable()
export class RetentionLoop extends LeaderLoop<RetentionStats> {
  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'retention', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return INTERVAL_MS;
  }

  protected round(): Promise<RetentionStats> {
    return this.sweep(RETENTION_BATCH, RETENTION_STATEMENTS);
  }

  /** One round with its bounds given (tests use small ones): each table gets `statements` DELETEs. */
  async sweep(batch: number, statements: number): Promise<RetentionStats> {
    const { eventsDays, hostHistoryDays } = this.config.retention;
    const r = this.repos.retention;
    let backlog = false;
    const drain = async (del: (days: number, limit: number) => Promise<number>, days: number) => {
      let total = 0;
      for (let i = 0; i < statements; i++) {
        const n = await del(days, batch);
        total += n;
        if (n < batch) return total;
      }
      backlog = true;
      return total;
    };
    const stats = {
      events: await drain((d, l) => r.events(d, l), eventsDays),
      webhookDeliveries: await drain((d, l) => r.webhookDeliveries(d, l), eventsDays),
      // Hosts before batches: a batch goes once its last host has.
      hosts: await drain((d, l) => r.hosts(d, l), hostHistoryDays),
      launchBatches: await drain((d, l) => r.launchBatches(d, l), hostHistoryDays),
    };
    const out = { ...stats, backlog };
    if (stats.events + stats.webhookDeliveries + stats.hosts + stats.launchBatches > 0)
      this.log.log(out, 'retention deleted aged-out rows');
    return out;
  }
}
