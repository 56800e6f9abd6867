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
    h = await startApiApp('pagination');
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
});
