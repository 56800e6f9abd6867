import fc from 'fast-check';
import { startApiApp, type ApiApp } from '../support/api-app';
import { waitFor } from '../support/stack';

/** Every table a request could change (event_cursors is the webhook fan-out's own bookmark). */
const TABLES = [
  'projects',
  'api_keys',
  'staking_identities',
  'validators',
  'hosts',
  'events',
  'idempotency_keys',
  'webhooks',
  'webhook_deliveries',
  'plans',
  'plan_locks',
  'plan_serial_changes',
  'plan_config_actions',
  'standby_pool_sizes',
];

describe('Public API fuzz (fast-check): hostile requests', () => {
  let h: ApiApp;
  let a: { projectId: string; key: string };
  let b: { projectId: string; key: string };
  const ids: Record<string, string> = {};

  const fingerprint = async (): Promise<string> => {
    const cols = TABLES.map(
      (t) => `(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM ${t} x)`,
    ).join(` || '|' || `);
    return (await h.repos.ds.query(`SELECT ${cols} AS f`))[0].f as string;
  };

  beforeAll(async () => {
    h = await startApiApp('fuzz', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }); // a webhook on 127.0.0.1
    a = await h.tenant('fuzz-a', ['admin']);
    b = await h.tenant('fuzz-b', ['admin']);
    const v = await h.api('/v1/validators', {
      method: 'POST',
      key: a.key,
      json: { network: 'fuji', name: 'target', protected: true },
    });
    ids.validator = ((await v.json()) as { id: string }).id;
    // Its identity is generated in the background: let that write land before the fuzz starts
    // comparing database fingerprints.
    await waitFor(
      'the target validator’s generated identity',
      async () => (await h.repos.validators.findById(ids.validator!))?.identityId,
      30_000,
      50,
    );
    const w = await h.api('/v1/webhooks', {
      method: 'POST',
      key: a.key,
      json: { url: 'http://127.0.0.1:9/never', enabled: false },
    });
    ids.webhook = ((await w.json()) as { id: string }).id;
    const k = await h.api(`/v1/projects/${a.projectId}/api-keys`, {
      method: 'POST',
      key: a.key,
      json: { name: 'k', scopes: ['validators:read'] },
    });
    ids.key = ((await k.json()) as { id: string }).id;
    const pl = await h.api('/v1/plans', {
      method: 'POST',
      key: a.key,
      json: { validators: [{ name: 'planned', network: 'fuji' }] },
    });
    expect(pl.status).toBe(201);
    ids.plan = ((await pl.json()) as { id: string }).id;
    ids.event = (
      await h.repos.ds.query('SELECT id::text FROM events WHERE project_id = $1 LIMIT 1', [
        a.projectId,
      ])
    )[0].id;
  }, 60_000);
  afterAll(async () => h?.stop());

  const hostileString = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.constantFrom(
      '',
      ' ',
      '../../etc/passwd',
      '%00',
      '%',
      "' OR 1=1 --",
      '\u0000',
      '😀'.repeat(50),
      'NaN',
      '-1',
      '1e309',
      '00000000-0000-0000-0000-000000000000',
      '__proto__',
      'constructor',
    ),
    fc.string({ minLength: 300, maxLength: 5000 }),
    fc.uuid(),
  );
  const foreignId = fc
    .constantFrom('validator', 'webhook', 'key', 'event', 'plan')
    .map((k) => ids[k]!);
  const ownProject = fc.constant(null).map(() => b.projectId);
  const foreignProject = fc.constant(null).map(() => a.projectId);
  const idArb = fc.oneof(hostileString, foreignId, ownProject);
  const jsonValue = fc.oneof(
    fc.anything(),
    fc.dictionary(hostileString, fc.anything()),
    fc.record(
      {
        network: fc.oneof(fc.anything(), fc.constantFrom('fuji', 'mainnet')),
        name: fc.oneof(fc.anything(), hostileString),
        labels: fc.oneof(fc.anything(), fc.dictionary(hostileString, fc.anything())),
        zones: fc.anything(),
        url: fc.oneof(hostileString, fc.constantFrom('javascript:alert(1)', 'ftp://x')),
        scopes: fc.oneof(fc.anything(), fc.array(hostileString)),
        protected: fc.anything(),
        identity: fc.anything(),
        validators: fc.oneof(
          fc.anything(),
          fc.array(fc.record({ name: hostileString, network: fc.anything() })),
        ),
        mode: fc.oneof(fc.anything(), fc.constantFrom('apply', 'destroy')),
        webhooks: fc.anything(),
        standbyPools: fc.anything(),
        pools: fc.oneof(fc.anything(), fc.dictionary(hostileString, fc.anything())),
        extra: fc.anything(),
      },
      { requiredKeys: ['extra'] },
    ),
  );
  const pollution = fc.constantFrom(
    '{"__proto__":{"admin":true},"network":"fuji"}',
    '{"constructor":{"prototype":{"x":1}},"network":"fuji"}',
    '{"network":"fuji","labels":{"__proto__":"x"}}',
    '{"name":"x","prototype":1}',
  );
  const rawBody = fc.oneof(
    jsonValue.map((v) => {
      try {
        return JSON.stringify(v) ?? 'null';
      } catch {
        return '{}';
      }
    }),
    fc.string(), // mostly not JSON
    fc.constantFrom('{', '{"a":', '[1,', 'null', '1', '"x"', '{"a":1}}', '\ufeff{}'),
    pollution,
    fc.constant(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`),
  );
  const query = fc.record(
    {
      limit: fc.oneof(hostileString, fc.integer().map(String)),
      cursor: hostileString,
      after: fc.oneof(hostileString, foreignId),
      state: hostileString,
      label: hostileString,
      types: hostileString,
    },
    { requiredKeys: [] },
  );
  const route = fc.oneof(
    fc.tuple(fc.constant('POST'), fc.constant('/v1/validators')),
    fc.tuple(
      fc.constantFrom('GET', 'PATCH', 'DELETE'),
      idArb.map((i) => `/v1/validators/${i}`),
    ),
    fc.tuple(
      fc.constant('GET'),
      idArb.map((i) => `/v1/validators/${i}/events`),
    ),
    fc.tuple(
      fc.constant('GET'),
      idArb.map((i) => `/v1/validators/${i}/hosts`),
    ),
    fc.tuple(fc.constant('GET'), fc.constantFrom('/v1/validators', '/v1/events', '/v1/webhooks')),
    fc.tuple(fc.constant('POST'), fc.constantFrom('/v1/projects', '/v1/webhooks')),
    fc.tuple(
      fc.constantFrom('GET', 'POST'),
      fc.oneof(idArb, foreignProject).map((i) => `/v1/projects/${i}/api-keys`),
    ),
    fc.tuple(
      fc.constant('DELETE'),
      fc
        .tuple(fc.oneof(idArb, foreignProject), idArb)
        .map(([p, k]) => `/v1/projects/${p}/api-keys/${k}`),
    ),
    fc.tuple(
      fc.constantFrom('GET', 'PATCH', 'DELETE'),
      idArb.map((i) => `/v1/webhooks/${i}`),
    ),
    fc.tuple(
      fc.constant('GET'),
      idArb.map((i) => `/v1/webhooks/${i}/deliveries`),
    ),
    fc.tuple(
      fc.constant('POST'),
      idArb.map((i) => `/v1/webhooks/${i}/test`),
    ),
    fc.tuple(fc.constant('GET'), fc.constant('/v1/events/stream')),
    fc.tuple(fc.constant('POST'), fc.constant('/v1/plans')),
    fc.tuple(fc.constantFrom('GET', 'DELETE'), fc.constant('/v1/plans/lock')),
    fc.tuple(
      fc.constant('GET'),
      idArb.map((i) => `/v1/plans/${i}`),
    ),
    fc.tuple(
      fc.constant('POST'),
      idArb.map((i) => `/v1/plans/${i}/apply`),
    ),
    fc.tuple(fc.constantFrom('GET', 'PUT'), fc.constant('/v1/standby-pools')),
    fc.tuple(fc.constant('GET'), fc.constantFrom('/v1/zones', '/v1/incidents')),
  );
  const request = fc.record({
    route,
    query,
    body: fc.option(rawBody, { nil: undefined }),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=latin1',
    ),
    idem: fc.option(hostileString, { nil: undefined }),
    lastEventId: fc.oneof(hostileString, foreignId).filter((s) => s !== ''),
    key: fc.constantFrom('b', 'b', 'b', 'none', 'garbage'),
  });

  it('should never answer 5xx, and leave the database unchanged by every rejected request', async () => {
    let baseline = await fingerprint();
    let sent = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method, path] = r.route as unknown as [string, string]; // fc.oneof of tuples widens oddly
        const qs = new URLSearchParams(
          Object.entries(r.query).filter(([, v]) => typeof v === 'string') as [string, string][],
        ).toString();
        const headers: Record<string, string> = { 'content-type': r.contentType };
        if (r.key === 'b') headers.authorization = `Bearer ${b.key}`;
        if (r.key === 'garbage') headers.authorization = 'Bearer ' + 'x'.repeat(40);
        if (r.idem !== undefined && /^[\x20-\x7e]*$/.test(r.idem))
          headers['idempotency-key'] = r.idem;
        if (path.endsWith('/stream')) headers['last-event-id'] = encodeURIComponent(r.lastEventId);
        let url: string;
        try {
          url = new URL(`${path}${qs ? `?${qs}` : ''}`, h.url).toString();
        } catch {
          return;
        }
        const res = await fetch(url, {
          method,
          headers,
          body: method === 'GET' || method === 'DELETE' ? undefined : r.body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel().catch(() => undefined);
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect({ method, path, status: res.status < 500 }).toEqual({ method, path, status: true });
        if (res.status >= 400) {
          expect({ method, path, status: res.status, db: await fingerprint() }).toEqual({
            method,
            path,
            status: res.status,
            db: baseline,
          });
        } else if (method !== 'GET') {
          baseline = await fingerprint(); // an accidental valid write: it may change the DB
        }
      }),
      { numRuns: 2200, endOnFailure: true },
    );
    process.stdout.write(`fuzz statuses: ${JSON.stringify([...statuses].sort())}\n`);
    expect(sent).toBeGreaterThanOrEqual(2000);
    // Rejections dominate; the other tenant's resources were never touched.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeLessThan(sent / 2);
    const target = await h.api(`/v1/validators/${ids.validator!}`, { key: a.key });
    expect(((await target.json()) as { state: string }).state).toBe('pending');
  }, 300_000);
});
