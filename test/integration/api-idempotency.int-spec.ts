import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

describe('Public API: Idempotency-Key', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  const count = async () =>
    Number(
      (
        await h.repos.ds.query('SELECT count(*)::int AS n FROM validators WHERE project_id = $1', [
          t.projectId,
        ])
      )[0].n,
    );
  const post = (key: string, body: unknown, idem?: string) =>
    h.api('/v1/validators', {
      method: 'POST',
      key,
      json: body,
      headers: idem ? { 'idempotency-key': idem } : {},
    });

  beforeAll(async () => {
    h = await startApiApp('idempotency');
    t = await h.tenant('idem', ['validators:read', 'validators:write']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should replay the first response for the same key and body', async () => {
    const first = await post(t.key, { network: 'fuji', name: 'idem-1' }, 'k-replay');
    expect(first.status).toBe(202);
    const body = (await first.json()) as Json;
    const again = await post(t.key, { name: 'idem-1', network: 'fuji' }, 'k-replay'); // keys reordered
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(body);
    expect(await count()).toBe(1);
  });

  it('should answer 422 for the same key with a different body, changing nothing', async () => {
    const before = await count();
    const r = await post(t.key, { network: 'mainnet', name: 'idem-1' }, 'k-replay');
    expect(r.status).toBe(422);
    expect(((await r.json()) as Json).detail).toMatch(/different request/);
    expect(await count()).toBe(before);
  });

  it('should answer 409 while the same key is still in flight', async () => {
    // Hold the first request inside its handler: lock the validators table so the insert waits.
    const runner = h.repos.ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('LOCK TABLE validators IN EXCLUSIVE MODE');
    try {
      const slow = post(t.key, { network: 'fuji', name: 'idem-2' }, 'k-flight');
      await new Promise((r) => setTimeout(r, 1500)); // the identity is generated, the insert blocks
      const second = await post(t.key, { network: 'fuji', name: 'idem-2' }, 'k-flight');
      expect(second.status).toBe(409);
      expect(second.headers.get('retry-after')).toBe('1');
      await runner.commitTransaction();
      expect((await slow).status).toBe(202);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    const third = await post(t.key, { network: 'fuji', name: 'idem-2' }, 'k-flight');
    expect(third.status).toBe(202);
    expect(third.headers.get('idempotent-replayed')).toBe('true');
  });

  it('should create one validator for concurrent requests with one key', async () => {
    const before = await count();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => post(t.key, { network: 'local', name: 'idem-3' }, 'k-race')),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    expect(await count()).toBe(before + 1);
    const ids = new Set(
      await Promise.all(
        results.filter((r) => r.status === 202).map(async (r) => ((await r.json()) as Json).id),
      ),
    );
    expect(ids.size).toBe(1);
  });

  it('should release the key when the request fails, so a corrected retry works', async () => {
    const bad = await post(t.key, { network: 'saturn', name: 'idem-4' }, 'k-fix');
    expect(bad.status).toBe(400);
    const ok = await post(t.key, { network: 'fuji', name: 'idem-4' }, 'k-fix');
    expect(ok.status).toBe(202);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  it('should scope keys to the project and keep them 24 h', async () => {
    const other = await h.tenant('idem-other', ['validators:write']);
    const r = await post(other.key, { network: 'fuji', name: 'idem-1' }, 'k-replay');
    expect(r.status).toBe(202); // same key string, another project: a new request
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    const rows: { hours: number }[] = await h.repos.ds.query(
      `SELECT extract(epoch FROM expires_at - created_at) / 3600 AS hours FROM idempotency_keys WHERE key = 'k-replay'`,
    );
    for (const row of rows) expect(Number(row.hours)).toBeCloseTo(24, 1);
  });

  it('should refuse a malformed key and apply to other POSTs too', async () => {
    const r = await post(t.key, { network: 'fuji' }, 'x'.repeat(300));
    expect(r.status).toBe(400);
    expect(((await r.json()) as Json).detail).toMatch(/Idempotency-Key/);
    const w1 = await h.api('/v1/projects', {
      method: 'POST',
      json: { name: 'once' },
      headers: { 'idempotency-key': 'p-1' },
    });
    const w2 = await h.api('/v1/projects', {
      method: 'POST',
      json: { name: 'once' },
      headers: { 'idempotency-key': 'p-1' },
    });
    expect(w1.status).toBe(201);
    expect(w2.status).toBe(201);
    expect(((await w2.json()) as Json).id).toBe(((await w1.json()) as Json).id);
  });
});
