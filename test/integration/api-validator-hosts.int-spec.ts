import { randomUUID } from 'node:crypto';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;
const json = async (r: Response) => (await r.json()) as Json;

interface Check {
  name: string;
  label: string;
  status: string;
  value: string | null;
  lastKnown: string | null;
  observedAt: string | null;
  ageSeconds: number | null;
  staleAfterSeconds: number | null;
  detail: string;
}
interface HostItem {
  id: string;
  zone: string;
  instanceId: string | null;
  role: string;
  generation: number | null;
  status: string;
  startedAt: string;
  launchedAt: string;
  endedAt: string | null;
  endReason: string | null;
  fenced: boolean;
  lastVerdict: { state: string; reason: string | null; since: string | null };
}
interface HostsView {
  validatorId: string;
  currentHostId: string | null;
  checkedAt: string;
  health: { hostId: string; zone: string; instanceId: string | null; checks: Check[] } | null;
  items: HostItem[];
  nextCursor: string | null;
}

const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);

describe('GET /v1/validators/:id/hosts (host history and current health)', () => {
  let h: ApiApp;
  let a: { projectId: string; key: string };
  let b: { projectId: string; key: string };
  let moved: string; // a validator that failed over from cn-hongkong-b to cn-hongkong-c
  let fresh: string; // a validator still pending, never placed
  const host = { old: randomUUID(), current: randomUUID(), notLaunched: randomUUID() };

  const hosts = async (id: string, key = a.key, query = '') => {
    const r = await h.api(`/v1/validators/${id}/hosts${query}`, { key });
    expect({ id, status: r.status }).toEqual({ id, status: 200 });
    return (await r.json()) as HostsView;
  };
  const insertHost = (row: {
    id: string;
    validatorId: string;
    zone: string;
    instanceId: string | null;
    generation: number;
    createdAt: Date;
    extra?: string;
    extraArgs?: unknown[];
  }) =>
    h.repos.ds.query(
      `INSERT INTO hosts (id, project_id, validator_id, role, zone, instance_type, client_token,
                          instance_id, generation, bootstrap_token_hash, created_at)
       VALUES ($1, $2, $3, 'assigned', $4, 'ecs.g7.2xlarge', $5, $6, $7, $8, $9)`,
      [
        row.id,
        a.projectId,
        row.validatorId,
        row.zone,
        `sl-${row.id}`,
        row.instanceId,
        row.generation,
        `hash-${row.id}`,
        row.createdAt,
      ],
    );
  const recordSweep = (startedAt: Date, cloudFailedCalls: number) =>
    h.repos.ds.query(
      `INSERT INTO control_loops (name, stats, updated_at) VALUES ('sweeper', $1, now())
       ON CONFLICT (name) DO UPDATE SET stats = EXCLUDED.stats, updated_at = now()`,
      [JSON.stringify({ startedAt: startedAt.toISOString(), durationMs: 40, cloudFailedCalls })],
    );
  const makeCurrentFresh = () =>
    h.repos.ds.query(
      `UPDATE hosts SET registered_at = now() - interval '10 minutes',
              lease_expires_at = now() + interval '30 seconds', last_report_at = now() - interval '2 seconds',
              last_report = '{"running":true,"nodeId":null,"healthy":true,"bootstrapped":true,"observedAt":"2025-01-01T00:00:00.000Z"}',
              health = 'healthy', health_reason = 'lease fresh, instance running',
              health_since = now() - interval '9 minutes', cloud_status = 'Running', cloud_health = 'Ok',
              cloud_observed_at = now() - interval '9 minutes'
        WHERE id = $1`,
      [host.current],
    );

  beforeAll(async () => {
    h = await startApiApp('validator-hosts');
    a = await h.tenant('hosts-a', ['admin']);
    b = await h.tenant('hosts-b', ['admin']);
    const create = async (name: string) => {
      const r = await h.api('/v1/validators', {
        method: 'POST',
        key: a.key,
        json: { network: 'fuji', name },
      });
      expect(r.status).toBe(202);
      return (await json(r)).id as string;
    };
    moved = await create('moved');
    fresh = await create('fresh');
    // The identity is generated off the request path; a validator is placed only once it exists.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = (await h.repos.ds.query(`SELECT node_id FROM validators WHERE id = $1`, [
        moved,
      ])) as { node_id: string | null }[];
      if (row?.node_id) break;
      if (Date.now() > deadline) throw new Error('no identity generated within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // What the worker would have recorded: a launch in b, a failover to a standby in c, a launch
    // attempt refused for stock (no instance: it ran nothing).
    await insertHost({
      id: host.notLaunched,
      validatorId: moved,
      zone: 'cn-hongkong-a',
      instanceId: null,
      generation: 1,
      createdAt: secondsAgo(3600),
    });
    await h.repos.ds.query(
      `UPDATE hosts SET deleted_at = now() - interval '3599 seconds', cloud_status = 'NotLaunched' WHERE id = $1`,
      [host.notLaunched],
    );
    await insertHost({
      id: host.old,
      validatorId: moved,
      zone: 'cn-hongkong-b',
      instanceId: 'i-old-b',
      generation: 1,
      createdAt: secondsAgo(3590),
    });
    // The standby it moved to was launched before the first host: tenure, not launch, orders them.
    await insertHost({
      id: host.current,
      validatorId: moved,
      zone: 'cn-hongkong-c',
      instanceId: 'i-current-c',
      generation: 2,
      createdAt: secondsAgo(7200),
    });
    await h.repos.ds.query(
      `UPDATE hosts SET fenced = true, deleted_at = now() - interval '500 seconds', health = 'unhealthy',
              health_reason = 'ECS reports the instance Stopped', health_since = now() - interval '620 seconds',
              cloud_status = 'Deleted'
        WHERE id = $1`,
      [host.old],
    );
    await h.repos.ds.query(
      `INSERT INTO failovers (validator_id, project_id, from_host_id, to_host_id, from_zone, to_zone,
                              generation, reason, method, status, started_at, detected_at, finished_at)
       VALUES ($1, $2, $3, $4, 'cn-hongkong-b', 'cn-hongkong-c', 2, 'ECS reports the instance Stopped',
               'standby', 'done', now() - interval '600 seconds', now() - interval '620 seconds',
               now() - interval '580 seconds')`,
      [moved, a.projectId, host.old, host.current],
    );
    await h.repos.ds.query(
      `UPDATE validators SET state = 'active', generation = 2, host_id = $2, zone = 'cn-hongkong-c',
              instance_id = 'i-current-c', active_at = now() - interval '580 seconds'
        WHERE id = $1`,
      [moved, host.current],
    );
    await makeCurrentFresh();
    await recordSweep(secondsAgo(1), 0);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should list every host the validator ran on, newest first, with how each tenure ended', async () => {
    const v = await hosts(moved);
    expect(v.validatorId).toBe(moved);
    expect(v.currentHostId).toBe(host.current);
    // The launch refused for lack of stock never had an instance: not a host the validator ran on.
    expect(v.items.map((i) => i.id)).toEqual([host.current, host.old]);
    const [current, old] = v.items as [HostItem, HostItem];
    expect(current).toMatchObject({
      zone: 'cn-hongkong-c',
      instanceId: 'i-current-c',
      role: 'assigned',
      generation: 2,
      status: 'current',
      endedAt: null,
      endReason: null,
      fenced: false,
      lastVerdict: { state: 'healthy', reason: 'lease fresh, instance running' },
    });
    // A claimed standby took the identity when the failover started, not when it was launched.
    expect(Date.parse(current.startedAt)).toBeGreaterThan(Date.parse(current.launchedAt));
    expect(Date.now() - Date.parse(current.startedAt)).toBeGreaterThanOrEqual(599_000);
    expect(old).toMatchObject({
      zone: 'cn-hongkong-b',
      instanceId: 'i-old-b',
      generation: 1,
      status: 'replaced',
      endReason: 'failed over to cn-hongkong-c: ECS reports the instance Stopped',
      fenced: true,
      lastVerdict: { state: 'unhealthy', reason: 'ECS reports the instance Stopped' },
    });
    expect(old.endedAt).toBe(current.startedAt);
    expect(old.startedAt).toBe(old.launchedAt);
  });

  it("should report the current host's checks, each with the age of its observation", async () => {
    const v = await hosts(moved);
    expect(v.health).toMatchObject({
      hostId: host.current,
      zone: 'cn-hongkong-c',
      instanceId: 'i-current-c',
    });
    const checks = Object.fromEntries(v.health!.checks.map((c) => [c.name, c]));
    expect(Object.keys(checks)).toEqual([
      'verdict',
      'cloud',
      'lease',
      'node_running',
      'node_healthy',
      'node_bootstrapped',
    ]);
    expect(checks.verdict).toMatchObject({ status: 'pass', value: 'healthy', lastKnown: null });
    expect(checks.cloud).toMatchObject({ status: 'pass', value: 'Running (Ok)' });
    expect(checks.lease).toMatchObject({ status: 'pass', value: 'held' });
    // "held" is current until the lease would run out without another renewal.
    expect(checks.lease!.staleAfterSeconds).toBe(32);
    for (const n of ['node_running', 'node_healthy', 'node_bootstrapped'])
      expect(checks[n]).toMatchObject({ status: 'pass', value: 'yes' });
    // The verdict and the cloud status were confirmed by the last sweep (1 s ago), not 9 minutes ago.
    expect(checks.verdict!.ageSeconds).toBeLessThanOrEqual(3);
    expect(checks.cloud!.ageSeconds).toBeLessThanOrEqual(3);
    expect(checks.node_healthy!.ageSeconds).toBeLessThanOrEqual(4);
    for (const c of v.health!.checks) {
      expect({ name: c.name, observedAt: typeof c.observedAt }).toEqual({
        name: c.name,
        observedAt: 'string',
      });
      expect(c.label.length).toBeGreaterThan(0);
      expect(c.detail.length).toBeGreaterThan(0);
    }
  });

  it('should show stale observations as unknown, with the last value and its age — never as current', async () => {
    try {
      // The health loop stopped 5 minutes ago with its cloud calls failing; the agent went silent.
      await recordSweep(secondsAgo(300), 2);
      await h.repos.ds.query(
        `UPDATE hosts SET last_report_at = now() - interval '120 seconds',
                lease_expires_at = now() - interval '90 seconds',
                health_since = now() - interval '20 minutes', cloud_observed_at = now() - interval '20 minutes'
          WHERE id = $1`,
        [host.current],
      );
      const checks = Object.fromEntries(
        (await hosts(moved)).health!.checks.map((c) => [c.name, c]),
      );
      expect(checks.verdict).toMatchObject({
        status: 'unknown',
        value: null,
        lastKnown: 'healthy',
      });
      expect(checks.verdict!.ageSeconds).toBeGreaterThanOrEqual(299);
      // A sweep whose cloud calls failed confirmed nothing: the last real cloud observation dates it.
      expect(checks.cloud).toMatchObject({
        status: 'unknown',
        value: null,
        lastKnown: 'Running (Ok)',
      });
      expect(checks.cloud!.ageSeconds).toBeGreaterThanOrEqual(1199);
      expect(checks.lease).toMatchObject({ status: 'fail', value: 'expired' });
      expect(checks.lease!.detail).toMatch(/^expired/);
      for (const n of ['node_running', 'node_healthy', 'node_bootstrapped']) {
        expect(checks[n]).toMatchObject({ status: 'unknown', value: null, lastKnown: 'yes' });
        expect(checks[n]!.ageSeconds).toBeGreaterThanOrEqual(119);
      }
    } finally {
      await makeCurrentFresh();
      await recordSweep(secondsAgo(1), 0);
    }
  });

  it('should say unknown for what the agent does not know, and for a host not yet judged', async () => {
    try {
      await h.repos.ds.query(
        `UPDATE hosts SET last_report = '{"running":true,"nodeId":null,"healthy":null,"bootstrapped":null,"observedAt":"2025-01-01T00:00:00.000Z"}',
                health = 'unknown', health_reason = NULL, health_since = NULL, cloud_observed_at = NULL
          WHERE id = $1`,
        [host.current],
      );
      const checks = Object.fromEntries(
        (await hosts(moved)).health!.checks.map((c) => [c.name, c]),
      );
      expect(checks.verdict).toMatchObject({ status: 'unknown', value: null, observedAt: null });
      expect(checks.cloud).toMatchObject({
        status: 'unknown',
        value: null,
        lastKnown: null,
        ageSeconds: null,
      });
      expect(checks.node_running).toMatchObject({ status: 'pass', value: 'yes' });
      expect(checks.node_healthy).toMatchObject({
        status: 'unknown',
        value: null,
        lastKnown: null,
      });
      expect(checks.node_healthy!.ageSeconds).toEqual(expect.any(Number));
    } finally {
      await makeCurrentFresh();
    }
  });

  it('should answer an empty history and no health for a validator never placed', async () => {
    const v = await hosts(fresh);
    expect(v).toMatchObject({
      validatorId: fresh,
      currentHostId: null,
      health: null,
      items: [],
      nextCursor: null,
    });
  });

  it('should page with a cursor', async () => {
    const p1 = await hosts(moved, a.key, '?limit=1');
    expect(p1.items.map((i) => i.id)).toEqual([host.current]);
    expect(p1.nextCursor).toEqual(expect.any(String));
    const p2 = await hosts(moved, a.key, `?limit=1&cursor=${encodeURIComponent(p1.nextCursor!)}`);
    expect(p2.items.map((i) => i.id)).toEqual([host.old]);
    // The current host's health is there on every page, even when the host is not.
    expect(p2.health?.hostId).toBe(host.current);
    const p3 = await hosts(moved, a.key, `?limit=1&cursor=${encodeURIComponent(p2.nextCursor!)}`);
    expect(p3).toMatchObject({ items: [], nextCursor: null });
  });

  it('should page through hosts that share a millisecond without skipping one', async () => {
    const twins = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, at] of [
      '2025-01-01T00:00:00.123456Z',
      '2025-01-01T00:00:00.123200Z',
      '2025-01-01T00:00:00.122999Z',
    ].entries()) {
      await insertHost({
        id: twins[i]!,
        validatorId: fresh,
        zone: 'cn-hongkong-a',
        instanceId: `i-twin-${i}`,
        generation: 0,
        createdAt: new Date(at), // ms only: set the microseconds below
      });
      await h.repos.ds.query(`UPDATE hosts SET created_at = $2::timestamptz WHERE id = $1`, [
        twins[i],
        at,
      ]);
    }
    try {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 5; i++) {
        const page: HostsView = await hosts(
          fresh,
          a.key,
          `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.items.map((x) => x.id));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(new Set(seen)).toEqual(new Set(twins));
      expect(seen).toHaveLength(3);
      expect(seen[2]).toBe(twins[2]);
    } finally {
      await h.repos.ds.query(`DELETE FROM hosts WHERE id = ANY($1::uuid[])`, [twins]);
    }
  });

  it("should answer 404 for another project's validator and leak nothing of it", async () => {
    const r = await h.api(`/v1/validators/${moved}/hosts`, { key: b.key });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    const text = await r.text();
    expect(text).not.toContain('cn-hongkong-c');
    expect(text).not.toContain(host.current);
    expect(JSON.parse(text).detail).not.toMatch(/forbidden|another project/i);
    // The same answer as for an id that exists nowhere.
    const none = await h.api(`/v1/validators/${randomUUID()}/hosts`, { key: b.key });
    expect(none.status).toBe(404);
  });

  it('should answer 400 for a bad id, limit or cursor, 401 without a key and 403 without the scope', async () => {
    for (const q of [
      ['/v1/validators/not-a-uuid/hosts', /id: must be a validator id/],
      [`/v1/validators/${moved}/hosts?limit=0`, /limit/],
      [`/v1/validators/${moved}/hosts?limit=101`, /limit/],
      [`/v1/validators/${moved}/hosts?cursor=%25%25%25`, /cursor/],
    ] as const) {
      const r = await h.api(q[0], { key: a.key });
      expect({ path: q[0], status: r.status }).toEqual({ path: q[0], status: 400 });
      expect((await json(r)).detail).toMatch(q[1]);
    }
    expect((await h.api(`/v1/validators/${moved}/hosts`, { key: null })).status).toBe(401);
    const k = await json(
      await h.api(`/v1/projects/${a.projectId}/api-keys`, {
        method: 'POST',
        key: a.key,
        json: { name: 'events only', scopes: ['events:read'] },
      }),
    );
    const forbidden = await h.api(`/v1/validators/${moved}/hosts`, { key: k.key as string });
    expect(forbidden.status).toBe(403);
    const reader = await json(
      await h.api(`/v1/projects/${a.projectId}/api-keys`, {
        method: 'POST',
        key: a.key,
        json: { name: 'reader', scopes: ['validators:read'] },
      }),
    );
    expect(
      (await h.api(`/v1/validators/${moved}/hosts`, { key: reader.key as string })).status,
    ).toBe(200);
  });

  it("should show the verdict's age and the last report's apart", async () => {
    await makeCurrentFresh();
    const ageOf = (t: unknown) => (Date.now() - Date.parse(t as string)) / 1000;
    const v = await json(await h.api(`/v1/validators/${moved}`, { key: a.key }));
    expect(v).toMatchObject({ zone: 'cn-hongkong-c', instanceId: 'i-current-c' });
    const health = v.health as Json;
    expect(health).toMatchObject({ state: 'healthy', reason: 'lease fresh, instance running' });
    // The verdict has not changed for 9 minutes; the agent reported 2 s ago.
    expect(ageOf(health.healthSince)).toBeGreaterThan(500);
    expect(ageOf(health.lastReportAt)).toBeLessThan(30);
    const list = await json(await h.api('/v1/validators', { key: a.key }));
    const inList = (list.items as Json[]).find((i) => i.id === moved)!;
    expect(inList.health).toEqual(health);
    expect((list.items as Json[]).find((i) => i.id === fresh)!.health).toBeNull();
    const [current] = (await hosts(moved)).items as (HostItem & { lastReportAt: string })[];
    expect(ageOf(current!.lastReportAt)).toBeLessThan(30);
    expect(ageOf(current!.lastVerdict.since)).toBeGreaterThan(500);
  });

  it('should list as affected only validators running in the zone, with where they are now', async () => {
    // The sweeper's list: the current placement only (not the old host in b, not the never-placed).
    expect(await h.repos.hosts.validatorsPlacedIn('cn-hongkong-c')).toEqual([moved]);
    expect(await h.repos.hosts.validatorsPlacedIn('cn-hongkong-b')).toEqual([]);
    await h.repos.incidents.openOrRefreshZone('cn-hongkong-b', 'major', 'Zone b impaired', [moved]);
    const r = await json(await h.api('/v1/incidents?status=open', { key: a.key }));
    const incident = (r.items as Json[]).find((i) => i.zone === 'cn-hongkong-b')!;
    expect(incident.affectedValidators).toEqual([moved]);
    expect(incident.affected).toEqual([
      {
        id: moved,
        name: 'moved',
        state: 'active',
        zone: 'cn-hongkong-c',
        instanceId: 'i-current-c',
      },
    ]);
    // Another project sees the incident, not this project's validators.
    const other = await json(await h.api('/v1/incidents?status=open', { key: b.key }));
    expect((other.items as Json[]).find((i) => i.zone === 'cn-hongkong-b')!.affected).toEqual([]);
  });

  it('should call the hosts of a retired validator retired', async () => {
    await h.repos.ds.query(
      `UPDATE hosts SET deleted_at = now(), fenced = true, cloud_status = 'Deleted' WHERE id = $1`,
      [host.current],
    );
    await h.repos.ds.query(
      `UPDATE validators SET state = 'retired', host_id = NULL, generation = 3, retired_at = now() WHERE id = $1`,
      [moved],
    );
    const v = await hosts(moved);
    expect(v).toMatchObject({ currentHostId: null, health: null });
    // Retired: no health and no current placement; the history below keeps where it ran.
    expect(await json(await h.api(`/v1/validators/${moved}`, { key: a.key }))).toMatchObject({
      state: 'retired',
      zone: null,
      instanceId: null,
      health: null,
    });
    const r = await json(await h.api('/v1/incidents?status=open', { key: a.key }));
    expect((r.items as Json[]).find((i) => i.zone === 'cn-hongkong-b')!.affected).toEqual([
      { id: moved, name: 'moved', state: 'retired', zone: null, instanceId: null },
    ]);
    expect(v.items.map((i) => [i.zone, i.status])).toEqual([
      ['cn-hongkong-c', 'retired'],
      ['cn-hongkong-b', 'replaced'],
    ]);
    expect(v.items[0]).toMatchObject({ endReason: 'the validator was retired' });
    expect(v.items[0]!.endedAt).toEqual(expect.any(String));
  });

  it('should be documented in OpenAPI with a summary and its errors', async () => {
    const doc = (await json(await h.api('/docs-json', { key: null }))) as {
      paths: Record<string, Record<string, { summary?: string; responses: Json }>>;
    };
    const op = doc.paths['/v1/validators/{id}/hosts']?.['get'];
    expect(op?.summary).toMatch(/hosts a validator has run on/);
    for (const code of ['200', '400', '401', '403', '404'])
      expect({ code, documented: code in op!.responses }).toEqual({ code, documented: true });
  });
});
