import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, type FeedEvent, type FeedPosition } from '@snowline/persistence';
import type { Principal } from '../auth/principal';
import { badRequest, Problem } from '../common/problem';
import { EventFeedService, isAfter, type FeedSubscriber } from './event-feed.service';
import { eventView } from './event.view';
import { MetricsService } from '../metrics/metrics.service';

const EVENT_ID = /^\d{1,18}$/;
const MAX_BUFFERED_BYTES = 1 << 20;
const TYPE_RE = /^[a-z0-9_.]{1,64}$/;

export function parseTypes(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 1024)
    throw badRequest('types: give one comma-separated list of event types.');
  const types = raw.split(',').filter(Boolean);
  const bad = types.find((t) => !TYPE_RE.test(t));
  if (bad !== undefined || !types.length)
    throw badRequest('types: event types look like validator.created (a-z, 0-9, . and _).');
  return types;
}

@Injectable()
export class EventsService {
  constructor(
    private readonly repos: Repositories,
    private readonly feed: EventFeedService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Where a cursor (an event id of this project) resumes; 400 when it is not one. */
  async resumeFrom(projectId: string, raw: unknown, name: string): Promise<FeedPosition> {
    if (typeof raw !== 'string' || !EVENT_ID.test(raw))
      throw badRequest(`${name}: must be an event id (digits) this API returned.`);
    const pos = await this.repos.eventFeed.positionOf(projectId, raw);
    if (!pos) throw badRequest(`${name}: ${raw} is not an event of this project.`);
    return pos;
  }

  /**
   * Events in commit order after a cursor; without one, from the beginning of the project's timeline
   * or, with `newest`, its last `limit` events (`snowline events --limit 5`: the five latest).
   */
  async list(
    projectId: string,
    q: { after?: string; limit: number; types?: string[]; newest?: boolean },
  ) {
    const from =
      q.after !== undefined
        ? await this.resumeFrom(projectId, q.after, 'after')
        : { txId: '0', id: '0' };
    const rows = await this.repos.eventFeed.after(from, {
      projectId,
      limit: q.limit,
      types: q.types,
      newest: q.newest && q.after === undefined,
    });
    const last = rows[rows.length - 1];
    // The newest page has nothing after it yet: follow on with `after` = its last id.
    const more = rows.length === q.limit && !(q.newest && q.after === undefined);
    return {
      items: rows.map(eventView),
      nextCursor: more && last ? last.id : null,
    };
  }

  /**
   * SSE: replays what the client missed after `Last-Event-ID` (header or `lastEventId` query), then
   * streams live. Each message's `id:` is the event id, so a reconnecting EventSource resumes by itself.
   */
  /** Open streams per API key on this replica (SSE_MAX_STREAMS_PER_KEY caps them). */
  private readonly streamsByKey = new Map<string, number>();

  async stream(
    p: Principal,
    lastEventId: unknown,
    types: string[] | undefined,
    req: Request,
    res: Response,
  ): Promise<void> {
    const projectId = p.projectId;
    const max = this.config.publicApi.sseMaxStreamsPerKey;
    const open = this.streamsByKey.get(p.keyId) ?? 0;
    if (open >= max) {
      throw new Problem(
        429,
        'Too Many Requests',
        `This API key already holds ${open} open event streams here (SSE_MAX_STREAMS_PER_KEY is ${max}); close one, or resume later with Last-Event-ID.`,
        { retryAfterSeconds: 10 },
      );
    }
    // Counted before the first await, so concurrent opens cannot all pass the check.
    this.streamsByKey.set(p.keyId, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.streamsByKey.get(p.keyId) ?? 1) - 1;
      if (left > 0) this.streamsByKey.set(p.keyId, left);
      else this.streamsByKey.delete(p.keyId);
    };
    let from: FeedPosition | null;
    try {
      from =
        lastEventId !== undefined && lastEventId !== ''
          ? await this.resumeFrom(projectId, lastEventId, 'Last-Event-ID')
          : null;
    } catch (err) {
      release();
      throw err;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 2000\n\n`);

    let closed = false;
    let live = false;
    const pending: FeedEvent[] = [];
    // The last position this stream holds. A resume point can be ahead of the feed's head (the client
    // listed GET /v1/events, fresh from the table, up to one poll before the feed passed those rows), so
    // the feed's next batches repeat what the client has: only positions after it are sent.
    let sent: FeedPosition | null = from;
    const send = (events: FeedEvent[]) => {
      for (const e of events) {
        if (sent && !isAfter(e, sent)) continue;
        sent = { txId: e.txId, id: e.id };
        res.write(`id: ${e.id}\ndata: ${JSON.stringify(eventView(e))}\n\n`);
      }
      if (res.writableLength > MAX_BUFFERED_BYTES) close(); // too slow: it can resume with Last-Event-ID
    };
    // A new stream starts now: events that had committed when it connected are not replayed, even
    // those the feed has not passed yet (held back behind a transaction that was still running).
    const before = from
      ? null
      : await this.repos.eventFeed.committedNow().catch((err: unknown) => {
          release();
          res.end();
          throw err;
        });
    const sub: FeedSubscriber = {
      projectId,
      types: types ? new Set(types) : undefined,
      deliver: (batch) => {
        const events = before ? batch.filter((e) => !before(e.txId)) : batch;
        if (live) send(events);
        else pending.push(...events);
      },
    };
    const heartbeat = setInterval(
      () => res.write(': ping\n\n'),
      this.config.publicApi.sseHeartbeatSeconds * 1000,
    );
    heartbeat.unref();
    const close = () => {
      if (closed) return;
      closed = true;
      release();
      clearInterval(heartbeat);
      this.feed.unsubscribe(sub);
      this.metrics.sseClients.set(this.feed.size);
      res.end();
    };
    req.on('close', close);
    res.on('error', close);

    const upTo = this.feed.subscribe(sub);
    this.metrics.sseClients.set(this.feed.size);
    // Catch up to the feed's head from the database; newer batches wait in `pending`.
    try {
      while (from && !closed) {
        const rows = await this.repos.eventFeed.after(from, {
          projectId,
          upTo,
          limit: 500,
          types,
        });
        send(rows);
        const last = rows[rows.length - 1];
        from = rows.length === 500 && last ? { txId: last.txId, id: last.id } : null;
      }
    } catch {
      close();
      return;
    }
    if (closed) return;
    live = true;
    send(pending.splice(0));
  }
}
