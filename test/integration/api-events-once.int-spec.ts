import { startApiApp, type ApiApp } from '../support/api-app';
import { sse } from '../support/sse-client';
import { waitFor } from '../support/stack';

jest.setTimeout(60_000);

type Json = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 21 point 2: the stream never sends an event id twice. The console reads its history with
 * GET /v1/events (fresh from the table) and then resumes the stream after the last id it listed; the
 * feed's head lags the table by up to one poll, so the resume point is often ahead of it.
 */
describe('SSE: every event exactly once', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  const burst = (n: number, type: string) =>
    h.repos.events.appendMany(
      Array.from({ length: n }, (_, i) => ({
        type,
        message: `burst ${i}`,
        projectId: t.projectId,
        data: { i },
      })),
    );
  const ids = async () =>
    (
      await h.repos.ds.query('SELECT id::text FROM events WHERE project_id = $1 ORDER BY id', [
        t.projectId,
      ])
    ).map((r: { id: string }) => r.id) as string[];
  /** The console's start: every page of history, oldest first. */
  const history = async () => {
    const items: Json[] = [];
    let after: string | null = null;
    do {
      const q: string = after ? `&after=${after}` : '';
      const page = (await (await h.api(`/v1/events?limit=100${q}`, { key: t.key })).json()) as {
        items: Json[];
        nextCursor: string | null;
      };
      items.push(...page.items);
      after = page.nextCursor;
    } while (after);
    return items.map((e) => e.id as string);
  };

  beforeAll(async () => {
    // A slow poll widens the window in which the table is ahead of the feed's head.
    h = await startApiApp('events-once', { EVENTS_POLL_MS: '1000' });
    t = await h.tenant('once', ['events:read']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should not resend what the history held when the stream resumes ahead of the feed', async () => {
    const url = `${h.url}/v1/events/stream`;
    const watcher = sse(url, t.key); // keeps the feed reading events, as other consoles do
    const open: ReturnType<typeof sse>[] = [watcher];
    try {
      await waitFor('watcher open', async () => watcher.status() === 200, 5000, 20);
      for (let round = 0; round < 3; round++) {
        await burst(40, 'test.same_ms'); // one statement: forty events in the same millisecond
        const listed = await history();
        const stream = sse(url, t.key, listed[listed.length - 1]);
        open.push(stream);
        await waitFor('stream open', async () => stream.status() === 200, 5000, 20);
        await sleep(2200); // two polls: the feed passes the burst the history already held
        await burst(3, 'test.after');
        await waitFor('3 new', async () => stream.received.length >= 3, 10_000, 50);
        await sleep(1200);
        await stream.close();
        const seen = [...listed, ...stream.received.map((e) => e.id)];
        expect({ round, duplicates: seen.length - new Set(seen).size }).toEqual({
          round,
          duplicates: 0,
        });
        expect(stream.received.map((e) => e.data.type)).toEqual([
          'test.after',
          'test.after',
          'test.after',
        ]);
      }
      const all = watcher.received.map((e) => e.id);
      expect(all.length).toBe(new Set(all).size);
    } finally {
      await Promise.all(open.map((s) => s.close()));
    }
  });

  it('should deliver each event once, with none missing, under appends racing the polls', async () => {
    const url = `${h.url}/v1/events/stream`;
    const start = new Set(await ids());
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        // bursts of one statement and single appends in parallel transactions
        await Promise.all([
          burst(25, 'test.race'),
          h.repos.events.append({ type: 'test.race', message: 'one', projectId: t.projectId }),
          h.repos.events.append({ type: 'test.race', message: 'two', projectId: t.projectId }),
        ]);
        await sleep(i % 3 === 0 ? 0 : 37);
      }
    })();
    const listed = (await history()).filter((id) => !start.has(id));
    const got: string[] = [...listed];
    // Three reconnects, each resuming after the last id received, as the console does.
    let last = listed[listed.length - 1] ?? [...start].pop();
    for (let leg = 0; leg < 3; leg++) {
      const s = sse(url, t.key, last);
      await sleep(900 + leg * 400);
      await s.close();
      got.push(...s.received.map((e) => e.id));
      last = got[got.length - 1] ?? last;
    }
    stop = true;
    await writer;
    const s = sse(url, t.key, last);
    try {
      const expected = (await ids()).filter((id) => !start.has(id));
      await waitFor(
        'the rest',
        async () => got.length + s.received.length >= expected.length,
        15_000,
        50,
      );
      await sleep(1200);
    } finally {
      await s.close();
    }
    const expected = (await ids()).filter((id) => !start.has(id));
    got.push(...s.received.map((e) => e.id));
    expect(got.length - new Set(got).size).toBe(0);
    expect([...got].sort()).toEqual([...expected].sort());
  });
});
