import type { AppConfig } from '@snowline/config';
import type { FeedEvent, FeedPosition, Repositories } from '@snowline/persistence';
import { EventFeedService } from './event-feed.service';

const ev = (txId: string, id: string): FeedEvent =>
  ({ txId, id, projectId: 'p1', type: 'validator.created' }) as unknown as FeedEvent;

/** A feed over an in-memory event log; `head()` can be held open to interleave a subscribe. */
function harness() {
  const log: FeedEvent[] = [];
  const calls: string[] = [];
  let holdHead: Promise<void> | null = null;
  const newest = (): FeedPosition => {
    const e = log[log.length - 1];
    return e ? { txId: e.txId, id: e.id } : { txId: '0', id: '0' };
  };
  const repos = {
    eventFeed: {
      head: async () => {
        calls.push('head');
        const at = newest();
        if (holdHead) await holdHead;
        return at;
      },
      after: async (from: FeedPosition) => {
        calls.push(`after ${from.id}`);
        return log.filter((e) => BigInt(e.id) > BigInt(from.id));
      },
    },
  } as unknown as Repositories;
  const config = { publicApi: { eventsPollMs: 60_000 } } as unknown as AppConfig;
  const feed = new EventFeedService(repos, config);
  const tick = () => (feed as unknown as { tick(): Promise<void> }).tick();
  return {
    log,
    calls,
    feed,
    tick,
    hold() {
      let release!: () => void;
      holdHead = new Promise((r) => (release = r));
      return () => {
        holdHead = null;
        release();
      };
    },
  };
}

describe('event feed', () => {
  it('should only move its head while nobody listens, then read every event a subscriber is owed', async () => {
    const h = harness();
    await h.feed.onApplicationBootstrap();
    h.log.push(ev('10', '1'), ev('10', '2'));
    await h.tick();
    expect(h.calls).toEqual(['head', 'head']); // bootstrap, then a position-only poll
    expect(h.feed.head()).toEqual({ txId: '10', id: '2' });

    const got: string[] = [];
    h.feed.subscribe({ projectId: 'p1', deliver: (es) => got.push(...es.map((e) => e.id)) });
    h.log.push(ev('11', '3'));
    await h.tick();
    expect(h.calls.at(-1)).toBe('after 2');
    expect(got).toEqual(['3']);
    h.feed.onApplicationShutdown();
  });

  it('should not jump over the events of a client that subscribed during a position-only poll', async () => {
    const h = harness();
    await h.feed.onApplicationBootstrap();
    h.log.push(ev('10', '1'));
    const release = h.hold();
    const polling = h.tick(); // no subscriber yet: asks only for the head (now at event 1)
    const got: string[] = [];
    const from = h.feed.subscribe({
      projectId: 'p1',
      deliver: (es) => got.push(...es.map((e) => e.id)),
    });
    expect(from).toEqual({ txId: '0', id: '0' }); // it subscribed before event 1 was passed
    release();
    await polling;
    expect(h.feed.head()).toEqual(from); // the head did not jump over event 1
    // The feed polls again at once by itself (not after EVENTS_POLL_MS) and delivers it.
    for (let i = 0; i < 50 && !got.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['1']);
    expect(h.calls.at(-1)).toBe('after 0');
    h.feed.onApplicationShutdown();
  });
});
