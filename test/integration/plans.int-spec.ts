import { generateIdentity } from '@snowline/avalanche';
import { PlanRepository } from '@snowline/persistence';
import { startApiApp, type ApiApp } from '../support/api-app';
import { waitFor } from '../support/stack';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies
const json = async (r: Response) => (await r.json()) as Json;

describe('Plans API: plan, apply, serial, lock, prevent_destroy', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let serial: PlanRepository;

  const plan = async (validators: unknown[], mode?: 'apply' | 'destroy') => {
    const r = await h.api('/v1/plans', { method: 'POST', key: t.key, json: { validators, mode } });
    expect(r.status).toBe(201);
    return json(r);
  };
  const apply = (id: string, body: Json = {}) =>
    h.api(`/v1/plans/${id}/apply`, { method: 'POST', key: t.key, json: body });
  const unlock = async () => {
    const l = await h.api('/v1/plans/lock', { key: t.key });
    if (l.status === 404) return;
    const { planId } = await json(l);
    expect(
      (await h.api(`/v1/plans/lock?planId=${planId}`, { method: 'DELETE', key: t.key })).status,
    ).toBe(200);
  };

  beforeAll(async () => {
    h = await startApiApp('plans');
    t = await h.tenant('plans', ['admin']);
    serial = new PlanRepository(h.repos.ds);
  }, 60_000);
  afterAll(async () => h?.stop());

  const FILE = [
    { name: 'fuji-a', network: 'fuji', labels: { team: 'core' } },
    { name: 'fuji-b', network: 'fuji', zones: ['cn-hongkong-b'] },
  ];

  it('should plan two creates against serial 0, apply them, and hold the lock until they settle', async () => {
    const p = await plan(FILE);
    expect(p).toMatchObject({ status: 'planned', serial: 0, changes: true });
    expect(p.actions.map((a: Json) => [a.action, a.name, a.reason])).toEqual([
      ['create', 'fuji-a', 'not in the project yet'],
      ['create', 'fuji-b', 'not in the project yet'],
    ]);
    const r = await apply(p.id, { holder: 'alice@laptop' });
    expect(r.status).toBe(200);
    const applied = await json(r);
    expect(applied.status).toBe('applying'); // no worker here: they stay pending
    expect(applied.results.map((x: Json) => [x.name, x.outcome])).toEqual([
      ['fuji-a', 'pending'],
      ['fuji-b', 'pending'],
    ]);
    expect(await serial.serial(t.projectId)).toBe(2);

    const again = await apply(p.id);
    expect(again.status).toBe(409);
    expect((await json(again)).code).toBe('plan_used');

    const lock = await json(await h.api('/v1/plans/lock', { key: t.key }));
    expect(lock).toMatchObject({ planId: p.id, holder: expect.stringContaining('alice@laptop') });

    // A second apply while the first has not settled is refused, naming who holds the lock.
    const p2 = await plan([...FILE, { name: 'fuji-c', network: 'fuji' }]);
    const refused = await apply(p2.id);
    expect(refused.status).toBe(409);
    const body = await json(refused);
    expect(body.code).toBe('locked');
    expect(body.detail).toMatch(/locked by alice@laptop .* since .*force-unlock/);

    // force-unlock needs the holder's plan id.
    const wrong = await h.api(`/v1/plans/lock?planId=${p2.id}`, { method: 'DELETE', key: t.key });
    expect(wrong.status).toBe(409);
    await unlock();
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(404);
  });

  it('should say no changes when the file matches, and bump the serial only on spec changes', async () => {
    const p = await plan(FILE);
    expect(p.changes).toBe(false);
    expect(p.actions.map((a: Json) => a.action)).toEqual(['no-op', 'no-op']);
    const before = await serial.serial(t.projectId);
    const [v] = (await json(await h.api('/v1/validators?limit=100', { key: t.key }))).items;
    // Identities are generated in the background; provisioning needs one.
    await waitFor(
      'its generated identity',
      async () => (await h.repos.validators.findById(v.id))?.identityId,
      20_000,
      50,
    );
    await h.repos.validators.transition(v.id, 'provisioning', {}, { from: ['pending'] });
    expect(await serial.serial(t.projectId)).toBe(before); // a state move is not a spec change
  });

  it('should refuse a stale plan with what changed, and show the console edit as drift', async () => {
    const p = await plan(FILE);
    const list = (await json(await h.api('/v1/validators?limit=100', { key: t.key }))).items;
    const a = list.find((v: Json) => v.name === 'fuji-a');
    const patch = await h.api(`/v1/validators/${a.id}`, {
      method: 'PATCH',
      key: t.key,
      json: { labels: { team: 'ops' } },
    });
    expect(patch.status).toBe(200);
    const r = await apply(p.id);
    expect(r.status).toBe(409);
    const body = await json(r);
    expect(body.code).toBe('stale_plan');
    expect(body.changes).toEqual(['fuji-a: labels team=core → team=ops']);
    expect(body.detail).toMatch(/stale.*What changed: fuji-a: labels/);
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(404); // released

    const next = await plan(FILE);
    const upd = next.actions.find((x: Json) => x.name === 'fuji-a');
    expect(upd).toMatchObject({ action: 'update', reason: 'update in place: labels' });
    expect(upd.drift).toMatch(/changed outside snowline.yaml at .* \(console or API\)/);
    const ok = await apply(next.id);
    expect(ok.status).toBe(200);
    expect((await json(ok)).status).toBe('applied'); // an update settles at once
    const after = await json(await h.api(`/v1/validators/${a.id}`, { key: t.key }));
    expect(after.labels).toEqual({ team: 'core' });
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(404);
  });

  it('should refuse to destroy a prevent_destroy validator, then destroy once the flag is gone', async () => {
    const guarded = [{ ...FILE[0], preventDestroy: true }, FILE[1]];
    const p = await plan(guarded);
    expect((await apply(p.id)).status).toBe(200);
    const d = await plan(guarded, 'destroy');
    const del = d.actions.find((x: Json) => x.name === 'fuji-a');
    expect(del).toMatchObject({ action: 'delete' });
    expect(del.refused).toMatch(/prevent_destroy: true in snowline.yaml/);
    const r = await apply(d.id);
    expect(r.status).toBe(409);
    expect((await json(r)).code).toBe('refused');
    expect(
      (await json(await h.api('/v1/validators?state=retiring', { key: t.key }))).items,
    ).toEqual([]);

    const d2 = await plan(FILE, 'destroy');
    expect(d2.actions.map((x: Json) => [x.action, x.name, x.unprotect])).toEqual([
      ['delete', 'fuji-a', true],
      ['delete', 'fuji-b', false],
    ]);
    const ok = await apply(d2.id);
    expect(ok.status).toBe(200);
    const states = (await json(await h.api('/v1/validators?limit=100', { key: t.key }))).items.map(
      (v: Json) => v.state,
    );
    expect(states).toEqual(['retiring', 'retiring']);
    await unlock();
  });

  it('should import an identity by NodeID in the plan and key files only at apply', async () => {
    const id = await generateIdentity();
    const p = await plan([
      { name: 'imported-1', network: 'fuji', identity: { nodeId: id.nodeId } },
    ]);
    const text = JSON.stringify(p);
    expect(text).toContain(id.nodeId);
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect((await apply(p.id)).status).toBe(400); // no key files
    const other = await generateIdentity();
    const mismatch = await apply(p.id, {
      identities: {
        'imported-1': {
          stakerCrt: other.stakerCrt,
          stakerKey: other.stakerKey,
          signerKey: other.signerKey.toString('base64'),
        },
      },
    });
    expect(mismatch.status).toBe(400);
    expect((await json(mismatch)).detail).toMatch(/the plan imports/);
    const r = await apply(p.id, {
      identities: {
        'imported-1': {
          stakerCrt: id.stakerCrt,
          stakerKey: id.stakerKey,
          signerKey: id.signerKey.toString('base64'),
        },
      },
    });
    expect(r.status).toBe(200);
    const v = (await json(await h.api('/v1/validators?limit=100', { key: t.key }))).items.find(
      (x: Json) => x.name === 'imported-1',
    );
    expect(v).toMatchObject({ nodeId: id.nodeId, identitySource: 'imported' });
    const stored = await h.repos.ds.query(`SELECT desired, snapshot, actions, results FROM plans`);
    expect(JSON.stringify(stored)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    await unlock();
  });

  it('should refuse unknown fields and duplicate names with a 400 that says what to fix', async () => {
    const dup = await h.api('/v1/plans', {
      method: 'POST',
      key: t.key,
      json: { validators: [FILE[0], FILE[0]] },
    });
    expect(dup.status).toBe(400);
    expect((await json(dup)).detail).toMatch(/appears twice/);
    const extra = await h.api('/v1/plans', {
      method: 'POST',
      key: t.key,
      json: { validators: [{ ...FILE[0], colour: 'red' }] },
    });
    expect(extra.status).toBe(400);
    expect((await json(extra)).detail).toMatch(/colour should not exist/);
  });

  it('should keep plans per project', async () => {
    const other = await h.tenant('other', ['admin']);
    const p = await plan(FILE);
    expect((await h.api(`/v1/plans/${p.id}`, { key: other.key })).status).toBe(404);
  });

  it('should leave validators made over REST alone, adopt one on import and prune only when asked', async () => {
    const o = await h.tenant('owner', ['admin']);
    const post = async (path: string, body: Json) => {
      const r = await h.api(path, { method: 'POST', key: o.key, json: body });
      expect(r.status).toBeLessThan(300);
      return json(r);
    };
    const rest = await post('/v1/validators', { name: 'rest-a', network: 'fuji' });
    await post('/v1/validators', { name: 'rest-b', network: 'fuji' });

    // A file that names neither: nothing to retire; both are listed as unmanaged.
    const empty = await post('/v1/plans', { validators: [] });
    expect(empty.changes).toBe(false);
    expect(empty.actions).toEqual([]);
    expect(empty.unmanagedValidators.map((u: Json) => [u.name, u.named])).toEqual([
      ['rest-a', false],
      ['rest-b', false],
    ]);

    // Naming rest-a offers to adopt it; no second rest-a is created.
    const named = await post('/v1/plans', { validators: [{ name: 'rest-a', network: 'fuji' }] });
    expect(named.changes).toBe(false);
    expect(named.actions.map((a: Json) => [a.action, a.unmanaged, a.adopt])).toEqual([
      ['no-op', true, false],
    ]);
    expect(named.actions[0].reason).toMatch(/snowline import rest-a/);

    // `snowline import rest-a`: the plan adopts it (and updates its labels in place).
    const imp = await post('/v1/plans', {
      validators: [{ name: 'rest-a', network: 'fuji', labels: { team: 'core' } }],
      adopt: ['rest-a'],
    });
    expect(imp.changes).toBe(true);
    expect(imp.summary).toMatchObject({ adopt: 1, update: 1, create: 0 });
    const r = await h.api(`/v1/plans/${imp.id}/apply`, { method: 'POST', key: o.key, json: {} });
    expect(r.status).toBe(200);
    const done = await json(r);
    expect(done.results).toMatchObject([{ name: 'rest-a', adopted: true, outcome: 'done' }]);
    expect(done.status).toBe('applied');

    // Now the file owns rest-a: dropping it from the file retires it. rest-b stays untouched.
    const drop = await post('/v1/plans', { validators: [] });
    expect(drop.actions.map((a: Json) => [a.action, a.name, !!a.unmanaged])).toEqual([
      ['delete', 'rest-a', false],
    ]);
    expect(drop.actions[0].validatorId).toBe(rest.id);
    expect(drop.unmanagedValidators.map((u: Json) => u.name)).toEqual(['rest-b']);

    // --prune: the unmanaged one is retired too, marked so the CLI can list it before asking.
    const prune = await post('/v1/plans', { validators: [], prune: true });
    expect(prune.actions.map((a: Json) => [a.action, a.name, !!a.unmanaged])).toEqual([
      ['delete', 'rest-a', false],
      ['delete', 'rest-b', true],
    ]);
    expect(prune.unmanagedValidators).toEqual([]);

    // adopt must name a validator in the file.
    const bad = await h.api('/v1/plans', {
      method: 'POST',
      key: o.key,
      json: { validators: [], adopt: ['rest-b'] },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).detail).toMatch(/adopt: rest-b is not in the file/);
  });

  it('should mark validators made by plans as managed from the start', async () => {
    const m = await h.tenant('managed', ['admin']);
    const p = await json(
      await h.api('/v1/plans', {
        method: 'POST',
        key: m.key,
        json: { validators: [{ name: 'from-file', network: 'fuji' }] },
      }),
    );
    expect(
      (await h.api(`/v1/plans/${p.id}/apply`, { method: 'POST', key: m.key, json: {} })).status,
    ).toBe(200);
    const [snap] = await serial.snapshot(m.projectId);
    expect(snap).toMatchObject({ name: 'from-file', managed: true });
  });
});
