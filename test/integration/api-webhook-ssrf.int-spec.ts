import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

describe('Webhook URLs with WEBHOOK_ALLOW_PRIVATE_TARGETS=false (SSRF)', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  const count = async () =>
    ((await h.repos.ds.query(`SELECT count(*)::int AS n FROM webhooks`)) as { n: number }[])[0]!.n;

  beforeAll(async () => {
    h = await startApiApp('ssrf', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' });
    t = await h.tenant('ssrf', ['webhooks:write']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it.each([
    ['ftp://example.com/hook', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /http or https/],
    ['http://127.0.0.1:6379/', /loopback, private or link-local/],
    ['http://localhost:3000/hook', /loopback, private or link-local/],
    ['http://10.0.0.7/hook', /loopback, private or link-local/],
    ['http://192.168.1.10/hook', /loopback, private or link-local/],
    ['http://169.254.169.254/latest/meta-data/', /loopback, private or link-local/],
    ['http://100.100.100.200/latest/meta-data/', /loopback, private or link-local/],
    ['http://[::1]:8080/', /loopback, private or link-local/],
    ['http://[fd12::1]/', /loopback, private or link-local/],
  ])('should refuse %s with a 400 and create nothing', async (url, detail) => {
    const before = await count();
    const r = await h.api('/v1/webhooks', { method: 'POST', key: t.key, json: { url } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(((await r.json()) as Json).detail).toMatch(detail);
    expect(await count()).toBe(before);
  });

  it('should accept a public target and refuse a PATCH to a private one', async () => {
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

describe('Webhook URLs in development/test (private targets allowed by default)', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('ssrf-dev');
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
