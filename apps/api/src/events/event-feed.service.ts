import { isZoneWideEvent } from '@snowline/persistence';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, type FeedEvent, type FeedPosition } from '@snowline/persistence';

export interface FeedSubscriber {
  projectId: string;
  types?: Set<string>;
  /** Called synchronously with each new batch (already filtered to the subscriber's project). */
  deliver(events: FeedEvent[]): void;
}

const BATCH = 1000;

/** Whether feed position `a` comes after `b` (commit order: transaction, then event id). */
export function isAfter(a: FeedPosition, b: FeedPosition): boolean {
  const ta = BigInt(a.txId);
  const tb = BigInt(b.txId);
  return ta > tb || (ta === tb && BigInt(a.id) > BigInt(b.id));
}

/**
 * One poller for every live client: a single query per EVENTS_POLL_MS reads new events in commit order
 * and hands each subscriber its project's share. Polling (not LISTEN/NOTIFY) because every writer —
 * api, worker, agent endpoints — already appends rows, nothing has to remember to NOTIFY, it needs no
 * dedicated connection, and the commit-order horizon must be read from a snapshot anyway.
 */
@Injectable()
export class EventFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('event-feed');
  private readonly subscribers = new Set<FeedSubscriber>();
  private position: FeedPosition | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly batchListeners = new Set<() => void>();

  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.position = await this.repos.eventFeed.head();
    this.schedule(this.config.publicApi.eventsPollMs);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** The feed's current head: everything at or before it has been handed to subscribers. */
  head(): FeedPosition {
    if (!this.position) throw new Error('event feed not started');
    return this.position;
  }

  /** Adds a subscriber and returns the head at that instant (batches it gets start strictly after it). */
  subscribe(sub: FeedSubscriber): FeedPosition {
    this.subscribers.add(sub);
    return this.head();
  }
  unsubscribe(sub: FeedSubscriber): void {
    this.subscribers.delete(sub);
  }
  /** Called after every non-empty batch (the webhook fan-out uses it to react at once). */
  onBatch(fn: () => void): void {
    this.batchListeners.add(fn);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let more = false;
    try {
      // Polls even with no subscriber, so a new client's "now" is never stale; with nobody to hand
      // events to, it reads only the head's position instead of every new event (under a write load
      // of hundreds of events a second, reading them all stalled the event loop every poll).
      if (!this.subscribers.size) {
        const head = await this.repos.eventFeed.head();
        // Someone subscribed meanwhile, at the old head: they are owed the events after it, so the
        // next tick (at once) reads them instead of jumping over them.
        if (this.subscribers.size) more = true;
        else if (isAfter(head, this.head())) this.position = head;
      } else {
        const events = await this.repos.eventFeed.after(this.head(), { limit: BATCH });
        const last = events[events.length - 1];
        if (last) {
          // Position and delivery move together, synchronously: see subscribe().
          this.position = { txId: last.txId, id: last.id };
          this.fanOut(events);
          more = events.length === BATCH;
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'event feed poll failed; retrying');
    }
    this.schedule(more ? 0 : this.config.publicApi.eventsPollMs);
  }

  private fanOut(events: FeedEvent[]): void {
    for (const sub of this.subscribers) {
      const mine = events.filter(
        (e) =>
          (e.projectId === sub.projectId || (e.projectId === null && isZoneWideEvent(e.type))) &&
          (!sub.types || sub.types.has(e.type)),
      );
      if (!mine.length) continue;
      try {
        sub.deliver(mine);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'subscriber failed; dropping it');
        this.subscribers.delete(sub);
      }
    }
    for (const fn of this.batchListeners) fn();
  }
}
