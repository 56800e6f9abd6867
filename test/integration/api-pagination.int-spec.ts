import { generateIdentity } from '@snowline/avalanche';
import { startApiApp, type ApiApp } from '../support/api-app';

type Page = { items: { id: string }[]; nextCursor: string | null };

/**
 * Keyset pagination on (created_at, id) must neither skip nor repeat rows that share a timestamp —
 * rows written by one transaction all carry the same `now()`, down to the microsecond, and a cursor
 * carries the timestamp as the API shows it (milliseconds).
 */
describe('Public API: cursor pagination over rows that share a timestamp', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };

  const walk = async (path: string, limit: number) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await h.api(
        `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { key: t.key },
      );
      expect(r.status).toBe(200);
      const page = (await r.json()) as Page;
      seen.push(...page.items.map((x) => x.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return seen;
  };

  beforeAll(async () => {
    h = await startApiApp('pagination', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }); // webhooks on 127.0.0.1
    t = await h.tenant('paging', ['admin']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should list every validator of one transaction once, page after page', async () => {
    // One statement, one now(): 25 rows with the very same created_at (microseconds included).
    const rows = (await h.repos.ds.query(
      `INSERT INTO validators (project_id, name, network, instance_type, state)
       SELECT $1, 'same-' || g, 'local', 'ecs.g7.2xlarge', 'pending' FROM generate_series(1, 25) g
       RETURNING id`,
      [t.projectId],
    )) as { id: string }[];
    const seen = await walk('/v1/validators', 10);
    expect(seen).toHaveLength(25);
    expect(new Set(seen)).toEqual(new Set(rows.map((r) => r.id)));
  });

  it('should list every delivery of one fan-out once, page after page', async () => {
    const hook = (await (
      await h.api('/v1/webhooks', {
        method: 'POST',
        key: t.key,
        json: { url: 'http://127.0.0.1:9/never', enabled: false },
      })
    ).json()) as { id: string };
    const rows = (await h.repos.ds.query(
      `INSERT INTO webhook_deliveries (webhook_id, project_id, event_type, payload, status)
       SELECT $1, $2, 'webhook.test', '{}'::jsonb, 'failed' FROM generate_series(1, 23)
       RETURNING id`,
      [hook.id, t.projectId],
    )) as { id: string }[];
    const seen = await walk(`/v1/webhooks/${hook.id}/deliveries`, 7);
    expect(seen).toHaveLength(23);
    expect(new Set(seen)).toEqual(new Set(rows.map((r) => r.id)));
  });

  it('should render every list item exactly as GET /v1/validators/:id does', async () => {
    const other = await h.tenant('paging-shape', ['admin']);
    const post = async (json: Record<string, unknown>) => {
      const r = await h.api('/v1/validators', { method: 'POST', key: other.key, json });
      expect(r.status).toBe(202);
      return ((await r.json()) as { id: string }).id;
    };
    const g = await generateIdentity();
    const ids = {
      pending: await post({ network: 'local', name: 'shape-pending' }),
      imported: await post({
        network: 'fuji',
        name: 'shape-imported',
        labels: { team: 'core', tier: 'gold' },
        zones: ['cn-hongkong-b', 'cn-hongkong-d'],
        protected: true,
        identity: {
          stakerCrt: g.stakerCrt,
          stakerKey: g.stakerKey,
          signerKey: g.signerKey.toString('base64'),
        },
      }),
      placed: await post({
        network: 'mainnet',
        name: 'shape-placed',
        instanceType: 'ecs.c7.xlarge',
      }),
      retired: await post({ network: 'local', name: 'shape-retired' }),
    };
    g.signerKey.fill(0);
    // Placement and history fields as the worker writes them (microsecond timestamps included); an
    // active validator has its identity, so the imported one is placed.
    await h.repos.ds.query(
      `UPDATE validators SET state = 'active', zone = 'cn-hongkong-c', instance_id = 'i-shape',
              generation = 3, state_reason = 'node healthy', active_at = now() - interval '1.234567 s',
              updated_at = clock_timestamp()
        WHERE id = $1`,
      [ids.imported],
    );
    await h.repos.ds.query(
      `UPDATE validators SET state = 'retired', retired_at = clock_timestamp() WHERE id = $1`,
      [ids.retired],
    );
    const r = await h.api('/v1/validators?limit=100', { key: other.key });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const page = (await r.json()) as { items: Record<string, unknown>[]; nextCursor: null };
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((x) => x.name).sort()).toEqual([
      'shape-imported',
      'shape-pending',
      'shape-placed',
      'shape-retired',
    ]);
    for (const item of page.items) {
      const one = await h.api(`/v1/validators/${item.id as string}`, { key: other.key });
      expect(item).toEqual(await one.json());
    }
    const imported = page.items.find((x) => x.id === ids.imported)!;
    expect(imported).toMatchObject({
      identitySource: 'imported',
      protected: true,
      nodeId: g.nodeId,
    });
    expect(imported.blsPublicKey).toBe(g.blsPublicKey);
  });
});
