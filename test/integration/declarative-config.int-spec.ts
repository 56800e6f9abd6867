import { randomBytes } from 'node:crypto';
import { WebhooksService } from '../../apps/api/src/webhooks/webhooks.service';
import { waitFor } from '../support/stack';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies
const json = async (r: Response) => (await r.json()) as Json;
const secret = () => randomBytes(24).toString('hex'); // 48 printable characters

describe('snowline.yaml beyond validators: webhooks in plans, standby pools (operator)', () => {
  let h: ApiApp;
  /** A project with an admin key and a plain writer key. */
  let admin: { projectId: string; key: string };
  let writer: string;
  /** The operator: an admin key of the default project (the only key that may set standby pools). */
  let operator: string;
  /** A key of the default project without the admin scope. */
  let operatorWriter: string;
  let other: { projectId: string; key: string };
  let zones: string[];

  const plan = async (key: string, body: Json) => {
    const r = await h.api('/v1/plans', { method: 'POST', key, json: { validators: [], ...body } });
    return { status: r.status, body: await json(r) };
  };
  const apply = async (key: string, id: string, body: Json = {}) => {
    const r = await h.api(`/v1/plans/${id}/apply`, { method: 'POST', key, json: body });
    return { status: r.status, body: await json(r) };
  };
  const dbText = async (sql: string) =>
    JSON.stringify(await h.repos.ds.query(sql, [admin.projectId]));

  beforeAll(async () => {
    h = await startApiApp('declarative', {
      STANDBY_POOL: 'fuji=1',
      // hooks.example.com need not resolve here (no DNS in CI); the SSRF guard has its own suite
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    });
    admin = await h.tenant('declarative', ['admin']);
    other = await h.tenant('declarative-other', ['admin']);
    const k = await h.api(`/v1/projects/${admin.projectId}/api-keys`, {
      method: 'POST',
      json: {
        name: 'ci writer',
        scopes: ['validators:read', 'validators:write', 'webhooks:write'],
      },
    });
    expect(k.status).toBe(201);
    writer = ((await k.json()) as { key: string }).key;
    operator = h.adminKey;
    const [def] = (await h.repos.ds.query(`SELECT id FROM projects WHERE is_default`)) as {
      id: string;
    }[];
    const ok = await h.api(`/v1/projects/${def!.id}/api-keys`, {
      method: 'POST',
      key: operator,
      json: { name: 'operator ci', scopes: ['validators:read', 'validators:write'] },
    });
    expect(ok.status).toBe(201);
    operatorWriter = ((await ok.json()) as { key: string }).key;
    zones = h.config.cloud.zones;
    expect(zones.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
  afterAll(async () => h?.stop());

  describe('GET/PUT /v1/standby-pools', () => {
    it('should refuse a key without the admin scope (403 naming the scope)', async () => {
      const get = await h.api('/v1/standby-pools', { key: writer });
      expect(get.status).toBe(403);
      expect((await json(get)).detail).toMatch(/lacks the `admin` scope/);
      const put = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: writer,
        json: { pools: { fuji: { [zones[0]!]: 3 } } },
      });
      expect(put.status).toBe(403);
      expect((await json(await h.api('/v1/standby-pools', { key: operator }))).settings).toEqual(
        [],
      );
    });

    it("should refuse a tenant's own admin key: pools are the operator's (403), nothing changes", async () => {
      const get = await h.api('/v1/standby-pools', { key: admin.key });
      expect(get.status).toBe(403);
      expect((await json(get)).detail).toMatch(
        /^Reading the standby pools needs an admin key of the operator \(default\) project/,
      );
      const put = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: admin.key,
        json: { pools: { fuji: { [zones[0]!]: 0 } } },
      });
      expect(put.status).toBe(403);
      expect((await json(put)).detail).toMatch(/^Changing the standby pools needs an admin key/);
      expect((await json(await h.api('/v1/standby-pools', { key: operator }))).settings).toEqual(
        [],
      );
    });

    it('should show the STANDBY_POOL default, store a setting that overrides it, and go back', async () => {
      const before = await json(await h.api('/v1/standby-pools', { key: operator }));
      expect(before).toMatchObject({ defaults: { fuji: 1 }, zones, settings: [] });
      expect(before.effective.fuji).toEqual(Object.fromEntries(zones.map((z) => [z, 1])));

      const put = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: operator,
        json: { pools: { fuji: { [zones[0]!]: 3 }, mainnet: { [zones[1]!]: 1 } } },
      });
      expect(put.status).toBe(200);
      const after = await json(put);
      expect(after.settings.map((s: Json) => [s.network, s.zone, s.size])).toEqual([
        ['fuji', zones[0], 3],
        ['mainnet', zones[1], 1],
      ]);
      expect(after.effective.fuji[zones[0]!]).toBe(3);
      expect(after.effective.fuji[zones[1]!]).toBe(1); // the default still holds elsewhere
      expect(after.effective.mainnet[zones[1]!]).toBe(1);
      expect(after.effective.mainnet[zones[0]!]).toBe(0);

      // The change is an event of the operator's project only. The feed passes an event once every
      // transaction older than it has ended, cluster-wide: another suite's open transaction (the CI
      // runs them in parallel on one Postgres) holds it back for a moment, so wait for it.
      const mine = await waitFor(
        'the standby_pool.updated event in the feed',
        async () => {
          const page = await json(await h.api('/v1/events?limit=100', { key: operator }));
          return page.items.some((e: Json) => e.type === 'standby_pool.updated') ? page : undefined;
        },
        10_000,
        100,
      );
      expect(mine.items.map((e: Json) => e.type)).toContain('standby_pool.updated');
      for (const tenant of [admin.key, other.key]) {
        const theirs = await json(await h.api('/v1/events?limit=100', { key: tenant }));
        expect(theirs.items.map((e: Json) => e.type)).not.toContain('standby_pool.updated');
      }

      const reset = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: operator,
        json: { pools: {} },
      });
      expect((await json(reset)).settings).toEqual([]);
    });

    it.each([
      [{ fuji: { 'cn-nowhere-z': 1 } }, /pools\.fuji\.cn-nowhere-z: zone not configured/],
      [{ fuij: {} }, /pools\.fuij: not a network/],
      [{ fuji: { ZONE: 99 } }, /pools\.fuji\.ZONE: zone not configured/],
      ['all', /pools must be an object/],
    ])('should refuse a bad setting %j with what to fix (400)', async (pools, detail) => {
      const r = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: operator,
        json: { pools },
      });
      expect(r.status).toBe(400);
      expect((await json(r)).detail).toMatch(detail);
    });

    it('should refuse a size out of range', async () => {
      const r = await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: operator,
        json: { pools: { fuji: { [zones[0]!]: 21 } } },
      });
      expect(r.status).toBe(400);
      expect((await json(r)).detail).toMatch(/must be a whole number from 0 to 20/);
    });
  });

  describe('standby_pools in a plan', () => {
    const pools = () => ({ fuji: { [zones[0]!]: 2, [zones[1]!]: 1 } });

    it("should refuse a plan that changes pools for any key but the operator's (403 saying who may)", async () => {
      for (const key of [writer, admin.key, operatorWriter]) {
        const r = await plan(key, { standbyPools: pools() });
        expect(r.status).toBe(403);
        expect(r.body.detail).toMatch(
          /This plan changes standby_pools, which needs an admin key of the operator \(default\) project/,
        );
      }
    });

    it('should plan updates with reasons, apply them for the operator, then say no changes', async () => {
      const p = await plan(operator, { standbyPools: pools() });
      expect(p.status).toBe(201);
      expect(p.body.changes).toBe(true);
      expect(p.body.actions).toEqual([]);
      expect(
        p.body.standbyPools.map((a: Json) => [a.action, `${a.network}/${a.zone}`, a.reason]),
      ).toEqual([
        ['update', `fuji/${zones[0]}`, 'grow from 1 standby (STANDBY_POOL default) to 2 standbys'],
        [
          'update',
          `fuji/${zones[1]}`,
          'keep 1 standby as a setting (today the STANDBY_POOL default); a later change of STANDBY_POOL no longer moves it',
        ],
      ]);
      expect(p.body.configSummary.standbyPools).toEqual({ update: 2, noop: 0 });

      // Applying needs the operator too (a plan may be applied by another key of the project).
      const refused = await apply(operatorWriter, p.body.id);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toMatch(/needs an admin key of the operator \(default\) project/);

      const a = await apply(operator, p.body.id);
      expect(a.status).toBe(200);
      expect(a.body.status).toBe('applied');
      expect(a.body.results.map((r: Json) => [r.kind, r.name, r.outcome])).toEqual([
        ['standby_pool', `fuji/${zones[0]}`, 'done'],
        ['standby_pool', `fuji/${zones[1]}`, 'done'],
      ]);
      const view = await json(await h.api('/v1/standby-pools', { key: operator }));
      expect(view.effective.fuji[zones[0]!]).toBe(2);

      // Matching pools are a no-op, which a non-admin key may plan (its validators still plan).
      const again = await plan(writer, { standbyPools: pools() });
      expect(again.status).toBe(201);
      expect(again.body.changes).toBe(false);
      expect(again.body.standbyPools.map((a: Json) => a.action)).toEqual(['no-op', 'no-op']);
    });

    it('should refuse a plan whose pools changed before apply (409 stale, naming the pool)', async () => {
      const p = await plan(operator, { standbyPools: { fuji: { [zones[0]!]: 4 } } });
      expect(p.status).toBe(201);
      await h.api('/v1/standby-pools', {
        method: 'PUT',
        key: operator,
        json: { pools: { fuji: { [zones[0]!]: 5 } } },
      });
      const a = await apply(operator, p.body.id);
      expect(a.status).toBe(409);
      expect(a.body.code).toBe('stale_plan');
      expect(a.body.detail).toContain(
        `standby pool fuji/${zones[0]}: now 5 (setting), planned from 2 (setting)`,
      );
      await h.api('/v1/standby-pools', { method: 'PUT', key: operator, json: { pools: {} } });
    });
  });

  describe('webhooks in a plan', () => {
    const hook = (over: Json = {}) => ({
      name: 'pager',
      url: 'https://hooks.example.com/snowline',
      events: ['validator.failed'],
      secretEnv: 'PAGER_SECRET',
      ...over,
    });
    const webhooks = async (key = writer) =>
      (await json(await h.api('/v1/webhooks', { key }))).items as Json[];
    const service = () => h.app.get(WebhooksService);

    it('should plan a create, refuse an apply without a good secret, and create it with the secret sealed', async () => {
      const p = await plan(writer, { webhooks: [hook()] });
      expect(p.status).toBe(201);
      expect(p.body.webhooks.map((a: Json) => [a.action, a.name, a.reason, a.needsSecret])).toEqual(
        [['create', 'pager', 'not in the project yet', true]],
      );
      expect(p.body.changes).toBe(true);

      const none = await apply(writer, p.body.id);
      expect(none.status).toBe(400);
      expect(none.body.detail).toMatch(
        /webhookSecrets\.pager: send the signing secret from \$PAGER_SECRET/,
      );
      const short = await apply(writer, p.body.id, { webhookSecrets: { pager: 'tooshort' } });
      expect(short.status).toBe(400);
      expect(short.body.detail).not.toContain('tooshort');
      const extra = await apply(writer, p.body.id, {
        webhookSecrets: { pager: secret(), ghost: secret() },
      });
      expect(extra.status).toBe(400);
      expect(extra.body.detail).toMatch(
        /webhookSecrets\.ghost: this plan neither creates nor rotates/,
      );

      const s = secret();
      const a = await apply(writer, p.body.id, { webhookSecrets: { pager: s } });
      expect(a.status).toBe(200);
      expect(a.body.status).toBe('applied');
      expect(a.body.results).toEqual([
        expect.objectContaining({
          kind: 'webhook',
          name: 'pager',
          action: 'create',
          outcome: 'done',
        }),
      ]);
      const [w] = await webhooks();
      expect(w).toMatchObject({
        configName: 'pager',
        url: 'https://hooks.example.com/snowline',
        eventTypes: ['validator.failed'],
        secretPrefix: '$PAGER_SECRET',
      });
      const row = await h.repos.webhooks.findById(w!.id);
      expect(service().secretOf(row!)).toBe(s);

      // The secret is nowhere but sealed: not in the responses, the plan rows or the events.
      expect(JSON.stringify(a.body)).not.toContain(s);
      expect(
        await dbText(
          `SELECT p.*, c.* FROM plans p LEFT JOIN plan_config_actions c ON c.plan_id = p.id WHERE p.project_id = $1`,
        ),
      ).not.toContain(s);
      expect(await dbText(`SELECT * FROM events WHERE project_id = $1`)).not.toContain(s);
      expect(JSON.stringify(await webhooks())).not.toContain(s.slice(0, 10));

      const again = await plan(writer, { webhooks: [hook()] });
      expect(again.body.changes).toBe(false);
      expect(again.body.webhooks.map((x: Json) => x.action)).toEqual(['no-op']);
    });

    it('should update the url in place, keeping the secret', async () => {
      const [before] = await webhooks();
      const sealed = service().secretOf((await h.repos.webhooks.findById(before!.id))!);
      const p = await plan(writer, { webhooks: [hook({ url: 'https://hooks.example.com/v2' })] });
      expect(p.body.webhooks).toEqual([
        expect.objectContaining({
          action: 'update',
          name: 'pager',
          webhookId: before!.id,
          reason: 'update in place: url',
          needsSecret: false,
          changes: [
            {
              field: 'url',
              before: 'https://hooks.example.com/snowline',
              after: 'https://hooks.example.com/v2',
            },
          ],
        }),
      ]);
      const a = await apply(writer, p.body.id);
      expect({ status: a.status, detail: a.body.detail }).toEqual({
        status: 200,
        detail: undefined,
      });
      const [after] = await webhooks();
      expect(after).toMatchObject({ id: before!.id, url: 'https://hooks.example.com/v2' });
      expect(service().secretOf((await h.repos.webhooks.findById(before!.id))!)).toBe(sealed);
    });

    it('should rotate the secret when secret_version rises', async () => {
      const [w] = await webhooks();
      const p = await plan(writer, {
        webhooks: [
          hook({ url: 'https://hooks.example.com/v2', secretVersion: 2, secretEnv: 'NEXT' }),
        ],
      });
      expect(p.body.webhooks[0]).toMatchObject({ action: 'update', needsSecret: true });
      const s = secret();
      expect((await apply(writer, p.body.id, { webhookSecrets: { pager: s } })).status).toBe(200);
      const row = (await h.repos.webhooks.findById(w!.id))!;
      expect(service().secretOf(row)).toBe(s);
      expect(row).toMatchObject({ secretEnv: 'NEXT', secretVersion: 2, secretPrefix: '$NEXT' });
    });

    it('should refuse a plan whose webhook changed in the API before apply (409 stale)', async () => {
      const [w] = await webhooks();
      const p = await plan(writer, {
        webhooks: [
          hook({ url: 'https://hooks.example.com/v3', secretVersion: 2, secretEnv: 'NEXT' }),
        ],
      });
      const patch = await h.api(`/v1/webhooks/${w!.id}`, {
        method: 'PATCH',
        key: writer,
        json: { enabled: false },
      });
      expect(patch.status).toBe(200);
      const a = await apply(writer, p.body.id);
      expect(a.status).toBe(409);
      expect(a.body.detail).toMatch(/stale: webhook pager: changed since the plan/);
      // The next plan shows it, with the change made outside as drift.
      const next = await plan(writer, {
        webhooks: [
          hook({ url: 'https://hooks.example.com/v2', secretVersion: 2, secretEnv: 'NEXT' }),
        ],
      });
      expect(next.body.webhooks[0]).toMatchObject({
        action: 'update',
        reason: 'update in place: enabled',
        drift: expect.stringMatching(/^changed outside snowline\.yaml at /),
      });
      expect((await apply(writer, next.body.id)).status).toBe(200);
    });

    it('should leave webhooks made outside the file alone, and list them', async () => {
      const made = await h.api('/v1/webhooks', {
        method: 'POST',
        key: writer,
        json: { url: 'https://manual.example.com/hook', description: 'by hand' },
      });
      expect(made.status).toBe(201);
      const manual = await json(made);
      expect(manual.configName).toBeNull();

      const p = await plan(writer, { webhooks: [] });
      expect(p.body.webhooks.map((a: Json) => `${a.action} ${a.name}`)).toEqual(['delete pager']);
      expect(p.body.unmanagedWebhooks).toEqual([
        { id: manual.id, url: 'https://manual.example.com/hook', description: 'by hand' },
      ]);
      // Another project sees neither.
      const theirs = await plan(other.key, { webhooks: [] });
      expect(theirs.body).toMatchObject({ webhooks: [], unmanagedWebhooks: [], changes: false });

      expect((await apply(writer, p.body.id)).status).toBe(200);
      expect((await webhooks()).map((w) => w.id)).toEqual([manual.id]);

      // A request without `webhooks` (an older client, the console) plans none and touches none.
      const without = await plan(writer, {});
      expect(without.body).toMatchObject({ webhooks: null, standbyPools: null, changes: false });
    });

    it('should create it again when it was deleted outside the file, as drift', async () => {
      const p = await plan(writer, { webhooks: [hook()] });
      expect((await apply(writer, p.body.id, { webhookSecrets: { pager: secret() } })).status).toBe(
        200,
      );
      const w = (await webhooks()).find((x) => x.configName === 'pager')!;
      expect((await h.api(`/v1/webhooks/${w.id}`, { method: 'DELETE', key: writer })).status).toBe(
        204,
      );
      const next = await plan(writer, { webhooks: [hook()] });
      expect(next.body.webhooks[0]).toMatchObject({
        action: 'create',
        reason: expect.stringMatching(
          /^it was deleted outside snowline\.yaml at .*; create it again$/,
        ),
      });
    });

    it('should refuse a url the webhook API refuses, naming the webhook', async () => {
      const r = await plan(writer, {
        webhooks: [hook({ url: 'https://user:pw@hooks.example.com/' })],
      });
      expect(r.status).toBe(400);
      expect(r.body.detail).toMatch(/^webhooks\.pager\.url: must not carry credentials/);
    });
  });
});
