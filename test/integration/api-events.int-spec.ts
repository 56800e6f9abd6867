import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../apps/api/src/webhooks/signature';
import { startApiApp, type ApiApp } from '../support/api-app';
import { sse } from '../support/sse-client';
import { waitFor } from '../support/stack';

type Json = Record<string, unknown>;

describe('Public API: events and SSE', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let other: { projectId: string; key: string };
  const append = (projectId: string, n: number, type = 'test.tick') =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        h.repos.events.append({ type, message: `tick ${i}`, projectId, data: { i } }),
      ),
    );
  const allIds = async (projectId: string) =>
    (
      await h.repos.ds.query('SELECT id::text FROM events WHERE project_id = $1 ORDER BY id', [
        projectId,
      ])
    ).map((r: { id: string }) => r.id) as string[];

  beforeAll(async () => {
    h = await startApiApp('events');
    t = await h.tenant('ev', ['events:read', 'validators:write']);
    other = await h.tenant('ev-other', ['events:read']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should list events in order with a cursor, only the project’s own', async () => {
    await append(t.projectId, 5);
    await append(other.projectId, 3);
    const p1 = (await (await h.api('/v1/events?limit=3', { key: t.key })).json()) as Json;
    const p2 = (await (
      await h.api(`/v1/events?limit=3&after=${p1.nextCursor as string}`, { key: t.key })
    ).json()) as Json;
    const ids = [...(p1.items as Json[]), ...(p2.items as Json[])].map((e) => e.id);
    expect(ids).toEqual(await allIds(t.projectId));
    const foreign = (await allIds(other.projectId))[0]!;
    const r = await h.api(`/v1/events?after=${foreign}`, { key: t.key });
    expect(r.status).toBe(400);
    expect((await h.api('/v1/events?after=abc', { key: t.key })).status).toBe(400);
  });

  it('should list the newest events, in commit order, with newest=true', async () => {
    await append(t.projectId, 4);
    // allIds sorts the text ids as text; the feed's order is numeric here (one append per tx).
    const all = (await allIds(t.projectId))
      .map(Number)
      .sort((x, y) => x - y)
      .map(String);
    const newest = async () =>
      (await (await h.api('/v1/events?limit=3&newest=true', { key: t.key })).json()) as Json;
    // Events are listed once no older transaction is in flight (the shared server's too).
    const ids = async () => ((await newest()).items as Json[]).map((e) => e.id as string);
    await waitFor('the newest events', async () => (await ids()).at(-1) === all.at(-1), 20_000, 50);
    const r = await newest();
    expect((r.items as Json[]).map((e) => e.id)).toEqual(all.slice(-3));
    expect(r.nextCursor).toBeNull();
    expect((await h.api('/v1/events?newest=yes', { key: t.key })).status).toBe(400);
  });

  it('should miss no event across a disconnect and reconnect with Last-Event-ID', async () => {
    const url = `${h.url}/v1/events/stream`;
    const first = sse(url, t.key);
    await waitFor('stream open', async () => first.status() === 200, 5000, 20);
    await new Promise((r) => setTimeout(r, 150));
    const before = new Set(await allIds(t.projectId));
    await append(t.projectId, 5);
    await waitFor('5 live events', async () => first.received.length >= 5, 10_000, 50);
    await first.close();
    const last = first.received[first.received.length - 1]!.id;
    await append(t.projectId, 7); // while disconnected
    const second = sse(url, t.key, last);
    await waitFor('the missed 7', async () => second.received.length >= 7, 10_000, 50);
    await append(t.projectId, 3); // live again
    await waitFor('3 more', async () => second.received.length >= 10, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    await second.close();
    const seen = [...first.received, ...second.received].map((e) => e.id);
    const expected = (await allIds(t.projectId)).filter((id) => !before.has(id));
    expect(new Set(seen).size).toBe(seen.length); // no duplicate
    expect([...seen].sort()).toEqual([...expected].sort()); // no gap
    expect(second.received.every((e) => (e.data as Json).type === 'test.tick')).toBe(true);
  });

  it('should start a new stream at its connection: nothing committed before it is replayed', async () => {
    // A transaction left open holds the feed's horizon back: events committed meanwhile are not
    // passed yet when the stream connects, but they had committed, so they are not the stream's.
    const runner = h.repos.ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT pg_current_xact_id()');
    let stream: ReturnType<typeof sse> | undefined;
    try {
      await append(t.projectId, 4, 'test.old');
      stream = sse(`${h.url}/v1/events/stream`, t.key);
      await waitFor('stream open', async () => stream!.status() === 200, 5000, 20);
      await new Promise((r) => setTimeout(r, 150));
      await runner.commitTransaction();
      const before = new Set(await allIds(t.projectId));
      await append(t.projectId, 3, 'test.new');
      await waitFor('3 new events', async () => stream!.received.length >= 3, 10_000, 50);
      await new Promise((r) => setTimeout(r, 300));
      const expected = (await allIds(t.projectId)).filter((id) => !before.has(id));
      expect(stream.received.map((e) => e.id).sort()).toEqual(expected.sort());
      expect(stream.received.map((e) => e.data.type)).toEqual(['test.new', 'test.new', 'test.new']);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
      await stream?.close();
    }
  });

  it('should not skip an event whose transaction commits after a newer one', async () => {
    const stream = sse(`${h.url}/v1/events/stream`, t.key);
    await waitFor('stream open', async () => stream.status() === 200, 5000, 20);
    await new Promise((r) => setTimeout(r, 150));
    // A transaction that appends, then stays open until `commit()`.
    let appended!: (id: string) => void;
    let commit!: () => void;
    const earlyId = new Promise<string>((r) => (appended = r));
    const released = new Promise<void>((r) => (commit = r));
    const slow = h.repos.transaction(async (tx) => {
      const e = await h.repos.events.append(
        { type: 'test.slow', message: 'slow', projectId: t.projectId },
        tx,
      );
      appended(e.id);
      await released;
    });
    const early = { id: await earlyId };
    const [late] = await append(t.projectId, 1, 'test.fast'); // higher id, commits first
    await new Promise((r) => setTimeout(r, 500));
    expect(stream.received.map((e) => e.id)).not.toContain(late!.id); // held back behind the open tx
    commit();
    await slow;
    await waitFor('both', async () => stream.received.length >= 2, 10_000, 50);
    await stream.close();
    expect(stream.received.map((e) => e.id)).toEqual([early.id, late!.id]);
  });

  it('should refuse a bad Last-Event-ID and another project’s events, and stream only its own', async () => {
    const bad = sse(`${h.url}/v1/events/stream`, t.key, 'nope');
    await waitFor('answer', async () => bad.status() !== 0, 5000, 20);
    expect(bad.status()).toBe(400);
    await bad.close();
    const theirs = (await allIds(other.projectId))[0]!;
    const foreign = sse(`${h.url}/v1/events/stream`, t.key, theirs);
    await waitFor('answer', async () => foreign.status() !== 0, 5000, 20);
    expect(foreign.status()).toBe(400);
    await foreign.close();
    const mine = sse(`${h.url}/v1/events/stream`, other.key);
    await waitFor('open', async () => mine.status() === 200, 5000, 20);
    await new Promise((r) => setTimeout(r, 150));
    await append(t.projectId, 2);
    await append(other.projectId, 1, 'test.mine');
    await waitFor('own event', async () => mine.received.length >= 1, 10_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    await mine.close();
    expect(mine.received.map((e) => (e.data as Json).type)).toEqual(['test.mine']);
  });
});

describe('Public API: webhooks', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let server: Server;
  let hookUrl: string;
  const hits: { headers: IncomingMessage['headers']; body: string; status: number }[] = [];
  let plan: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const status = plan.shift() ?? 200;
        hits.push({ headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    h = await startApiApp('webhooks', {
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', // the receivers are on 127.0.0.1
    });
    t = await h.tenant('wh', ['webhooks:write', 'validators:write']);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    server?.close();
  });

  it('should sign deliveries, retry a failing receiver with back-off and log every attempt', async () => {
    const created = await h.api('/v1/webhooks', {
      method: 'POST',
      key: t.key,
      json: { url: hookUrl, eventTypes: ['validator.created'] },
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as Json;
    const secret = hook.secret as string;
    expect(secret).toMatch(/^whsec_/);
    const shown = await (await h.api(`/v1/webhooks/${hook.id as string}`, { key: t.key })).text();
    expect(shown).not.toContain(secret);

    hits.length = 0;
    plan = [500, 503]; // fail twice, then succeed
    const v = await h.api('/v1/validators', {
      method: 'POST',
      key: t.key,
      json: { network: 'fuji', name: 'hooked' },
    });
    expect(v.status).toBe(202);
    await waitFor('3 attempts', async () => hits.length >= 3, 20_000, 50);
    for (const hit of hits) {
      expect(verifySignature(secret, hit.body, String(hit.headers['snowline-signature']))).toBe(
        true,
      );
      expect(JSON.parse(hit.body)).toMatchObject({ type: 'validator.created' });
    }
    expect(new Set(hits.map((x) => x.headers['snowline-delivery-id'])).size).toBe(1);
    const log = await waitFor(
      'the log',
      async () => {
        const r = (await (
          await h.api(`/v1/webhooks/${hook.id as string}/deliveries`, { key: t.key })
        ).json()) as { items: Json[] };
        return r.items[0]?.status === 'succeeded' ? r.items[0] : null;
      },
      10_000,
      100,
    );
    expect(log).toMatchObject({ attempts: 3, lastStatusCode: 200, eventType: 'validator.created' });
    expect((log.attemptLog as Json[]).map((a) => a.statusCode)).toEqual([500, 503, 200]);
    const at = (log.attemptLog as Json[]).map((a) => Date.parse(a.at as string));
    // back-off: a delayed job never runs early (base 100 ms, doubling); 15 ms for timer granularity
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(100 - 15);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(200 - 15);
    expect(JSON.stringify(log)).not.toContain(secret);
  });

  it('should mark a delivery failed after the last attempt, and send test pings on demand', async () => {
    const hook = (await (
      await h.api('/v1/webhooks', { method: 'POST', key: t.key, json: { url: hookUrl } })
    ).json()) as Json;
    hits.length = 0;
    plan = [500, 500, 500];
    const ping = await h.api(`/v1/webhooks/${hook.id as string}/test`, {
      method: 'POST',
      key: t.key,
    });
    expect(ping.status).toBe(202);
    const d = (await ping.json()) as Json;
    expect(d).toMatchObject({ eventType: 'webhook.test', status: 'pending' });
    const failed = await waitFor(
      'failed',
      async () => {
        const r = (await (
          await h.api(`/v1/webhooks/${hook.id as string}/deliveries`, { key: t.key })
        ).json()) as { items: Json[] };
        const row = r.items.find((x) => x.id === d.id);
        return row?.status === 'failed' ? row : null;
      },
      20_000,
      100,
    );
    expect(failed).toMatchObject({ attempts: 3, lastStatusCode: 500 });
    expect(hits.filter((x) => x.headers['snowline-event-type'] === 'webhook.test').length).toBe(3);
    const del = await h.api(`/v1/webhooks/${hook.id as string}`, { method: 'DELETE', key: t.key });
    expect(del.status).toBe(204);
    expect((await h.api(`/v1/webhooks/${hook.id as string}`, { key: t.key })).status).toBe(404);
  });

  it('should refuse URLs that are not http(s) or carry credentials', async () => {
    for (const url of ['ftp://x.example', 'not a url', 'https://user:pw@example.com/h']) {
      const r = await h.api('/v1/webhooks', { method: 'POST', key: t.key, json: { url } });
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
      expect(((await r.json()) as Json).detail).toMatch(/^url:/);
    }
  });

  it('should deliver zone-wide events to every project’s webhooks, and no other project-less event', async () => {
    const got: { project: string; type: string; zone: unknown }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const e = JSON.parse(body) as Json;
        got.push({ project: req.url!.slice(1), type: e.type as string, zone: e.zone });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const other = await h.tenant('wh-zone', ['webhooks:write']);
      for (const [name, key] of [
        ['a', t.key],
        ['b', other.key],
      ] as const) {
        const r = await h.api('/v1/webhooks', {
          method: 'POST',
          key,
          json: { url: `${base}/${name}`, eventTypes: ['zone.impaired', 'host.fenced'] },
        });
        expect(r.status).toBe(201);
      }
      await h.repos.events.append({
        type: 'host.fenced',
        message: 'a project-less host event stays internal',
        zone: 'cn-hongkong-c',
      });
      await h.repos.events.append({
        type: 'zone.impaired',
        message: 'Zone cn-hongkong-c is impaired',
        zone: 'cn-hongkong-c',
      });
      await waitFor('both deliveries', async () => got.length >= 2, 20_000, 50);
      await new Promise((r) => setTimeout(r, 500)); // nothing else may follow
      expect(got.sort((x, y) => x.project.localeCompare(y.project))).toEqual([
        { project: 'a', type: 'zone.impaired', zone: 'cn-hongkong-c' },
        { project: 'b', type: 'zone.impaired', zone: 'cn-hongkong-c' },
      ]);
    } finally {
      receiver.close();
    }
  });
});
