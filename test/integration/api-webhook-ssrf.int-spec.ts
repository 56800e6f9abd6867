import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApiApp, type ApiApp } from '../support/api-app';
import { waitFor } from '../support/stack';

type Json = Record<string, unknown>;

describe('Webhook URLs under the default SSRF guard (NODE_ENV=test, nothing set)', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  const count = async () =>
    ((await h.repos.ds.query(`SELECT count(*)::int AS n FROM webhooks`)) as { n: number }[])[0]!.n;

  beforeAll(async () => {
    h = await startApiApp('ssrf');
    t = await h.tenant('ssrf', ['webhooks:write']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it.each([
    ['ftp://example.com/hook', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /http or https/],
    ['http://127.0.0.1:6379/', /loopback, private, link-local or reserved/],
    ['http://localhost:3000/hook', /loopback, private, link-local or reserved/],
    ['http://10.0.0.7/hook', /loopback, private, link-local or reserved/],
    ['http://192.168.1.10/hook', /loopback, private, link-local or reserved/],
    ['http://169.254.169.254/latest/meta-data/', /loopback, private, link-local or reserved/],
    ['http://100.100.100.200/latest/meta-data/', /loopback, private, link-local or reserved/],
    ['http://[::1]:8080/', /loopback, private, link-local or reserved/],
    ['http://[fd12::1]/', /loopback, private, link-local or reserved/],
    ['http://[::ffff:a9fe:a9fe]/', /loopback, private, link-local or reserved/],
    ['http://[64:ff9b::7f00:1]/', /loopback, private, link-local or reserved/],
    ['http://[2002:a00:1::1]/', /loopback, private, link-local or reserved/],
    ['http://0x7f000001:6379/', /loopback, private, link-local or reserved/],
    ['http://198.18.0.1/', /loopback, private, link-local or reserved/],
  ])('should refuse %s with a 400 and create nothing', async (url, detail) => {
    const before = await count();
    const r = await h.api('/v1/webhooks', { method: 'POST', key: t.key, json: { url } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(((await r.json()) as Json).detail).toMatch(detail);
    expect(await count()).toBe(before);
  });

  it('should accept a public target and refuse a PATCH to a private one', async () => {
    expect(h.config.webhooks.allowPrivateTargets).toBe(false);
    const created = await h.api('/v1/webhooks', {
      method: 'POST',
      key: t.key,
      json: { url: 'https://8.8.8.8/snowline-hook' },
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as Json).id as string;
    const patched = await h.api(`/v1/webhooks/${id}`, {
      method: 'PATCH',
      key: t.key,
      json: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(patched.status).toBe(400);
    const now = (await (await h.api(`/v1/webhooks/${id}`, { key: t.key })).json()) as Json;
    expect(now.url).toBe('https://8.8.8.8/snowline-hook');
  });
});

describe('Webhook deliveries under the default SSRF guard', () => {
  let h: ApiApp;
  let receiver: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      hits++;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
    h = await startApiApp('ssrf-deliver', {
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_MAX_ATTEMPTS: '2',
    });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it.each(['localhost', '127.0.0.1', '[::ffff:127.0.0.1]'])(
    'should refuse at delivery time a stored URL that now points at %s (rebinding), reaching nothing',
    async (host) => {
      const created = await h.api('/v1/webhooks', {
        method: 'POST',
        json: { url: 'https://8.8.8.8/hook' },
      });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as Json).id as string;
      // what a name that resolved publicly at create and to loopback now looks like to the sender
      await h.repos.ds.query(`UPDATE webhooks SET url = $2 WHERE id = $1`, [
        id,
        `http://${host}:${port}/hook`,
      ]);
      const before = hits;
      const ping = await h.api(`/v1/webhooks/${id}/test`, { method: 'POST' });
      expect(ping.status).toBe(202);
      const d = ((await ping.json()) as Json).id as string;
      const failed = await waitFor(
        'delivery failed',
        async () => {
          const r = (await (await h.api(`/v1/webhooks/${id}/deliveries`)).json()) as {
            items: Json[];
          };
          const row = r.items.find((x) => x.id === d);
          return row?.status === 'failed' ? row : null;
        },
        20_000,
        50,
      );
      expect(failed.lastError).toMatch(/not public \(WEBHOOK_ALLOW_PRIVATE_TARGETS is off\)/);
      expect(hits).toBe(before);
    },
  );
});

describe('Webhook URLs with WEBHOOK_ALLOW_PRIVATE_TARGETS=true (a local receiver, by choice)', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('ssrf-allowed', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should accept a loopback receiver but still refuse a non-http scheme', async () => {
    expect(h.config.webhooks.allowPrivateTargets).toBe(true);
    const ok = await h.api('/v1/webhooks', {
      method: 'POST',
      json: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(ok.status).toBe(201);
    const bad = await h.api('/v1/webhooks', {
      method: 'POST',
      json: { url: 'ftp://127.0.0.1/hook' },
    });
    expect(bad.status).toBe(400);
  });
});
