import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;
const json = async (r: Response) => (await r.json()) as Json;

describe('Public API: projects, keys, scopes and isolation', () => {
  let h: ApiApp;
  let a: { projectId: string; key: string };
  let b: { projectId: string; key: string };
  let aValidator: string;
  let aWebhook: string;
  let aKeyId: string;

  beforeAll(async () => {
    h = await startApiApp('tenancy', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }); // a webhook on 127.0.0.1
    a = await h.tenant('alpha', ['admin']);
    b = await h.tenant('bravo', ['admin']);
    const v = await h.api('/v1/validators', {
      method: 'POST',
      key: a.key,
      json: { network: 'fuji', name: 'a-one', labels: { team: 'core' } },
    });
    expect(v.status).toBe(202);
    aValidator = (await json(v)).id as string;
    const w = await h.api('/v1/webhooks', {
      method: 'POST',
      key: a.key,
      json: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(w.status).toBe(201);
    aWebhook = (await json(w)).id as string;
    const k = await h.api(`/v1/projects/${a.projectId}/api-keys`, {
      method: 'POST',
      key: a.key,
      json: { name: 'reader', scopes: ['validators:read'] },
    });
    aKeyId = (await json(k)).id as string;
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should show a new key once and never its secret again', async () => {
    const r = await h.api(`/v1/projects/${a.projectId}/api-keys`, {
      method: 'POST',
      key: a.key,
      json: { name: 'ci', scopes: ['validators:read', 'events:read'] },
    });
    expect(r.status).toBe(201);
    const created = await json(r);
    expect(created.key).toMatch(/^sl_key_/);
    expect((await h.api('/v1/validators', { key: created.key as string })).status).toBe(200);
    const list = await h.api(`/v1/projects/${a.projectId}/api-keys`, { key: a.key });
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).not.toContain(created.key as string);
    expect(text).not.toMatch(/secretHash|secret_hash/);
    expect(JSON.parse(text).items.map((k: Json) => k.id)).toContain(created.id);
  });

  it('should tell a key which project and scopes it has, and never its secret', async () => {
    const reader = await json(
      await h.api(`/v1/projects/${a.projectId}/api-keys`, {
        method: 'POST',
        key: a.key,
        json: { name: 'whoami', scopes: ['validators:read', 'events:read'] },
      }),
    );
    const r = await h.api('/v1/whoami', { key: reader.key as string });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({
      projectId: a.projectId,
      projectName: 'alpha',
      keyId: reader.id,
      scopes: ['validators:read', 'events:read'],
    });
    expect(text).not.toContain(reader.key as string);
    expect(await json(await h.api('/v1/whoami', { key: b.key }))).toMatchObject({
      projectId: b.projectId,
      projectName: 'bravo',
    });
    expect((await h.api('/v1/whoami', { key: null })).status).toBe(401);
  });

  it('should answer 401 without a key, with an unknown key and with a revoked key', async () => {
    expect((await h.api('/v1/validators', { key: null })).status).toBe(401);
    expect((await h.api('/v1/validators', { key: 'sl_key_not_a_real_key_at_all' })).status).toBe(
      401,
    );
    const k = await json(
      await h.api(`/v1/projects/${a.projectId}/api-keys`, {
        method: 'POST',
        key: a.key,
        json: { name: 'doomed', scopes: ['validators:read'] },
      }),
    );
    expect((await h.api('/v1/validators', { key: k.key as string })).status).toBe(200);
    const revoked = await h.api(`/v1/projects/${a.projectId}/api-keys/${k.id as string}`, {
      method: 'DELETE',
      key: a.key,
    });
    expect(revoked.status).toBe(200);
    expect((await json(revoked)).revokedAt).toEqual(expect.any(String));
    const r = await h.api('/v1/validators', { key: k.key as string });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });

  it('should answer 403 when the key lacks the scope, and change nothing', async () => {
    const reader = await json(
      await h.api(`/v1/projects/${a.projectId}/api-keys`, {
        method: 'POST',
        key: a.key,
        json: { name: 'reader2', scopes: ['validators:read'] },
      }),
    );
    const key = reader.key as string;
    const cases: [string, RequestInit & { json?: unknown }][] = [
      ['/v1/validators', { method: 'POST', json: { network: 'fuji' } }],
      [`/v1/validators/${aValidator}`, { method: 'PATCH', json: { labels: {} } }],
      [`/v1/validators/${aValidator}`, { method: 'DELETE' }],
      ['/v1/events', {}],
      ['/v1/webhooks', {}],
      ['/v1/webhooks', { method: 'POST', json: { url: 'https://example.com' } }],
      [`/v1/projects/${a.projectId}/api-keys`, {}],
      ['/v1/projects', { method: 'POST', json: { name: 'x' } }],
    ];
    for (const [path, init] of cases) {
      const r = await h.api(path, { ...init, key });
      expect({ path, method: init.method, status: r.status }).toEqual({
        path,
        method: init.method,
        status: 403,
      });
      expect((await json(r)).detail).toMatch(/scope/);
    }
    expect((await json(await h.api(`/v1/validators/${aValidator}`, { key: a.key }))).state).toBe(
      'pending',
    );
  });

  it('should let only the operator create projects', async () => {
    const r = await h.api('/v1/projects', { method: 'POST', key: a.key, json: { name: 'evil' } });
    expect(r.status).toBe(403);
    const mine = await json(await h.api('/v1/projects', { key: a.key }));
    expect((mine.items as Json[]).map((p) => p.id)).toEqual([a.projectId]);
  });

  it("should answer 404 for another project's ids on every route", async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/validators/${aValidator}`],
      ['PATCH', `/v1/validators/${aValidator}`, { labels: { x: 'y' } }],
      ['DELETE', `/v1/validators/${aValidator}`],
      ['GET', `/v1/validators/${aValidator}/events`],
      ['GET', `/v1/validators/${aValidator}/hosts`],
      ['GET', `/v1/validators/${aValidator}/staking`],
      ['GET', `/v1/webhooks/${aWebhook}`],
      ['PATCH', `/v1/webhooks/${aWebhook}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${aWebhook}`],
      ['GET', `/v1/webhooks/${aWebhook}/deliveries`],
      ['POST', `/v1/webhooks/${aWebhook}/test`],
      ['GET', `/v1/projects/${a.projectId}`],
      ['GET', `/v1/projects/${a.projectId}/api-keys`],
      ['POST', `/v1/projects/${a.projectId}/api-keys`, { name: 'x', scopes: ['admin'] }],
      ['DELETE', `/v1/projects/${a.projectId}/api-keys/${aKeyId}`],
      ['DELETE', `/v1/projects/${b.projectId}/api-keys/${aKeyId}`],
    ];
    for (const [method, path, body] of routes) {
      const r = await h.api(path, { method, key: b.key, json: body });
      const problem = await json(r);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
      expect(problem.detail).not.toMatch(/forbidden|another project/i);
    }
    // …and nothing of A's leaks into B's lists.
    for (const path of ['/v1/validators', '/v1/events', '/v1/webhooks']) {
      const text = await (await h.api(path, { key: b.key })).text();
      expect(text).not.toContain(aValidator);
      expect(text).not.toContain(aWebhook);
    }
    // A still has everything, unchanged.
    const v = await json(await h.api(`/v1/validators/${aValidator}`, { key: a.key }));
    expect(v).toMatchObject({ state: 'pending', labels: { team: 'core' } });
    expect((await h.api(`/v1/webhooks/${aWebhook}`, { key: a.key })).status).toBe(200);
    const keys = await json(await h.api(`/v1/projects/${a.projectId}/api-keys`, { key: a.key }));
    expect((keys.items as Json[]).find((k) => k.id === aKeyId)?.revokedAt).toBeNull();
  });

  it('should PATCH name, labels, zones and protection, and refuse to delete a protected validator', async () => {
    const p = await h.api(`/v1/validators/${aValidator}`, {
      method: 'PATCH',
      key: a.key,
      json: {
        name: 'a-renamed',
        labels: { team: 'core', env: 'prod' },
        zones: ['cn-hongkong-b'],
        protected: true,
      },
    });
    expect(p.status).toBe(200);
    expect(await json(p)).toMatchObject({
      name: 'a-renamed',
      labels: { team: 'core', env: 'prod' },
      zones: ['cn-hongkong-b'],
      protected: true,
    });
    const del = await h.api(`/v1/validators/${aValidator}`, { method: 'DELETE', key: a.key });
    expect(del.status).toBe(409);
    expect((await json(del)).detail).toMatch(/protected/);
    const bad = await h.api(`/v1/validators/${aValidator}`, {
      method: 'PATCH',
      key: a.key,
      json: { zones: ['mars-1'] },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toMatch(/zones/);
    const events = await json(await h.api(`/v1/validators/${aValidator}/events`, { key: a.key }));
    expect((events.items as Json[]).map((e) => e.type)).toContain('validator.updated');
    await h.api(`/v1/validators/${aValidator}`, {
      method: 'PATCH',
      key: a.key,
      json: { protected: false },
    });
    expect(
      (await h.api(`/v1/validators/${aValidator}`, { method: 'DELETE', key: a.key })).status,
    ).toBe(202);
  });

  it('should filter by label and page with a cursor', async () => {
    for (const [name, team] of [
      ['c-1', 'x'],
      ['c-2', 'y'],
      ['c-3', 'x'],
    ]) {
      const r = await h.api('/v1/validators', {
        method: 'POST',
        key: b.key,
        json: { network: 'local', name, labels: { team: team!, tier: 'a' } },
      });
      expect(r.status).toBe(202);
    }
    const x = await json(await h.api('/v1/validators?label=team=x&label=tier=a', { key: b.key }));
    expect((x.items as Json[]).map((v) => v.name)).toEqual(['c-3', 'c-1']);
    const page1 = await json(await h.api('/v1/validators?limit=2', { key: b.key }));
    expect((page1.items as Json[]).map((v) => v.name)).toEqual(['c-3', 'c-2']);
    const page2 = await json(
      await h.api(`/v1/validators?limit=2&cursor=${page1.nextCursor as string}`, { key: b.key }),
    );
    expect((page2.items as Json[]).map((v) => v.name)).toEqual(['c-1']);
    expect(page2.nextCursor).toBeNull();
    for (const q of ['limit=0', 'limit=101', 'label=nope', 'cursor=%%%', 'state=sleeping']) {
      const r = await h.api(`/v1/validators?${q}`, { key: b.key });
      expect({ q, status: r.status }).toEqual({ q, status: 400 });
    }
  });

  it('should echo X-Request-Id, refuse unknown fields and large bodies with problem+json', async () => {
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key: b.key,
      headers: { 'x-request-id': 'trace-123' },
      json: { network: 'fuji', colour: 'blue' },
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    const p = await json(r);
    expect(p).toMatchObject({ status: 400, requestId: 'trace-123' });
    expect(p.detail).toMatch(/colour/);
    const big = await h.api('/v1/validators', {
      method: 'POST',
      key: b.key,
      json: { network: 'fuji', name: 'x'.repeat(300 * 1024) },
    });
    expect(big.status).toBe(413);
    expect((await json(big)).requestId).toEqual(expect.any(String));
    const bad = await h.api('/v1/validators', {
      method: 'POST',
      key: b.key,
      headers: { 'content-type': 'application/json' },
      body: '{"network":',
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toMatch(/not valid JSON/);
  });

  it('should publish OpenAPI 3.1 with a summary and error responses on every operation', async () => {
    const doc = (await json(await h.api('/docs-json', { key: null }))) as {
      openapi: string;
      paths: Record<string, Record<string, { summary?: string; responses: Json }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    expect(ops.length).toBeGreaterThan(20);
    for (const { path, method, op } of ops) {
      expect({ path, method, summary: !!op.summary }).toEqual({ path, method, summary: true });
      expect({ path, method, has400: '400' in op.responses }).toEqual({
        path,
        method,
        has400: true,
      });
    }
    expect(doc.paths['/v1/validators/{id}']!['get']!.responses).toHaveProperty('404');
    expect(doc.paths['/v1/validators']!['post']!.responses).toHaveProperty('422');
    expect((await h.api('/docs', { key: null })).status).toBe(200);
  });

  it('should serve /readyz, /metrics and Bull Board (operator only)', async () => {
    const ready = await h.api('/readyz', { key: null });
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({ status: 'ok', info: { postgres: {}, redis: {} } });
    const metrics = await (await h.api('/metrics', { key: null })).text();
    expect(metrics).toContain('snowline_http_request_duration_seconds_bucket');
    expect(metrics).toContain('snowline_process_cpu_seconds_total');
    expect(metrics).not.toMatch(/^(?!#)(?!snowline_)\w+[{ ]/m);
    expect((await h.api('/admin/queues', { key: null })).status).toBe(401);
    expect((await h.api('/admin/queues', { key: a.key })).status).toBe(403);
    expect((await h.api('/admin/queues')).status).toBe(200);
    const basic = Buffer.from(`admin:${h.adminKey}`).toString('base64');
    expect(
      (await h.api('/admin/queues', { key: null, headers: { authorization: `Basic ${basic}` } }))
        .status,
    ).toBe(200);
  });
});

describe('Public API: per-key rate limit', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('ratelimit', { RATE_LIMIT_RPS: '2', RATE_LIMIT_BURST: '3' });
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should answer 429 with Retry-After past the burst, per key', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await h.api('/v1/validators');
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const other = await h.tenant('other', ['validators:read']).catch(() => null);
    // the operator key is throttled, so the tenant may not be creatable right now; wait one refill
    await new Promise((r) => setTimeout(r, 1600));
    const t = other ?? (await h.tenant('other2', ['validators:read']));
    expect((await h.api('/v1/validators', { key: t.key })).status).toBe(200);
    expect((await h.api('/healthz', { key: null })).status).toBe(200);
  });
});
