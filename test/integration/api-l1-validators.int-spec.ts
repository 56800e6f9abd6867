import { cb58Encode } from '@snowline/avalanche';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

/** vms/platformvm/service.md (AvalancheGo v1.15.0-fuji): a real subnet id from its examples. */
const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
const OTHER_L1 = cb58Encode(Buffer.alloc(32, 7));

/**
 * Issue 22 point 6 at the API: a validator can be created for an L1 (`subnetId`), a malformed id is
 * a 400 that says what is wrong with it (AvalancheGo's ids.FromString rules: cb58 of 32 bytes with
 * its checksum, never the primary network), and the L1 of a validator never changes in place
 * (PATCH refuses another with 409; a plan replaces the validator).
 */
describe('Public API: L1 validators (subnetId)', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };

  const create = (body: Json) =>
    h.api('/v1/validators', { method: 'POST', key: t.key, json: body });
  const patch = (id: string, body: Json) =>
    h.api(`/v1/validators/${id}`, { method: 'PATCH', key: t.key, json: body });
  const plan = (validators: Json[]) =>
    h.api('/v1/plans', { method: 'POST', key: t.key, json: { validators } });

  beforeAll(async () => {
    h = await startApiApp('l1-validators');
    t = await h.tenant('l1', ['admin']);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should create an L1 validator, show its L1 and record it with the created event', async () => {
    const r = await create({ network: 'fuji', name: 'l1-a', subnetId: L1 });
    expect(r.status).toBe(202);
    const v = (await r.json()) as Json;
    expect(v).toMatchObject({ name: 'l1-a', network: 'fuji', subnetId: L1, state: 'pending' });
    expect(
      ((await (await h.api(`/v1/validators/${v.id}`, { key: t.key })).json()) as Json).subnetId,
    ).toBe(L1);
    const [row] = (await h.repos.ds.query(`SELECT subnet_id FROM validators WHERE id = $1`, [
      v.id,
    ])) as Json[];
    expect(row!.subnet_id).toBe(L1);
    const [event] = (await h.repos.ds.query(
      `SELECT message, data FROM events WHERE validator_id = $1 AND type = 'validator.created'`,
      [v.id],
    )) as Json[];
    expect(event!.message).toMatch(`an L1 validator of ${L1}`);
    expect(event!.data).toMatchObject({ subnetId: L1 });
  });

  it('should show a primary-network validator with subnetId null', async () => {
    const r = await create({ network: 'fuji', name: 'primary-a' });
    expect(r.status).toBe(202);
    expect(((await r.json()) as Json).subnetId).toBeNull();
  });

  it.each<[string, unknown, RegExp]>([
    ['a typo (checksum)', L1.replace('bRC', 'bRD'), /^subnetId: ".*" has a wrong cb58 checksum/],
    ['a character not in base58', L1.replace('2', '0'), /"0" is not a base58 character/],
    ['a short id', 'abc', /decodes to 3 bytes; a subnet id is cb58 of 32 bytes/],
    [
      'a NodeID',
      'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg',
      /is a NodeID; name the L1's subnet id/,
    ],
    ['the primary network', '11111111111111111111111111111111LpoYY', /primary network's id/],
    ['an empty string', '', /is empty/],
    ['a number', 42, /subnetId must be a string/],
  ])('should refuse %s with a 400 that says why, and create nothing', async (_what, id, why) => {
    const [before] = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM validators WHERE project_id = $1`,
      [t.projectId],
    )) as Json[];
    const r = await create({ network: 'fuji', subnetId: id });
    expect(r.status).toBe(400);
    const body = (await r.json()) as Json;
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(String(body.detail)).toMatch(why);
    const [after] = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM validators WHERE project_id = $1`,
      [t.projectId],
    )) as Json[];
    expect(after!.n).toBe(before!.n);
  });

  it('should accept the same L1 in a PATCH, refuse another (409) and a malformed one (400)', async () => {
    const v = (await (
      await create({ network: 'fuji', name: 'l1-b', subnetId: L1 })
    ).json()) as Json;
    const same = await patch(v.id, { subnetId: L1, labels: { team: 'l1' } });
    expect(same.status).toBe(200);
    expect((await same.json()) as Json).toMatchObject({ subnetId: L1, labels: { team: 'l1' } });

    const other = await patch(v.id, { subnetId: OTHER_L1 });
    expect(other.status).toBe(409);
    expect(((await other.json()) as Json).detail).toMatch(
      /validates L1 2bRC.*cannot change in place\. Create a new validator with subnetId .* snowline\.yaml: its plan replaces the validator/,
    );
    const dropped = await patch(v.id, { subnetId: null });
    expect(dropped.status).toBe(409);
    expect(((await dropped.json()) as Json).detail).toMatch(
      /Create a new validator without subnetId/,
    );
    const bad = await patch(v.id, { subnetId: 'not-an-id' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).detail).toMatch(
      /^subnetId: "not-an-id" "-" is not a base58/,
    );
    expect(
      ((await (await h.api(`/v1/validators/${v.id}`, { key: t.key })).json()) as Json).subnetId,
    ).toBe(L1);

    const primary = (await (await create({ network: 'fuji', name: 'primary-b' })).json()) as Json;
    expect((await patch(primary.id, { subnetId: null })).status).toBe(200);
    expect((await patch(primary.id, { subnetId: L1 })).status).toBe(409);
  });

  it('should check a plan’s subnetId like a create, and replace a validator whose L1 changes', async () => {
    const bad = await plan([{ name: 'l1-c', network: 'fuji', subnetId: L1.slice(0, -1) }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).detail).toMatch(/^validators\.l1-c\.subnetId: /);

    const created = await plan([{ name: 'l1-c', network: 'fuji', subnetId: L1 }]);
    expect(created.status).toBe(201);
    const p = (await created.json()) as Json;
    expect(p.actions[0]).toMatchObject({ action: 'create', desired: { subnetId: L1 } });
    const applied = await h.api(`/v1/plans/${p.id}/apply`, {
      method: 'POST',
      key: t.key,
      json: {},
    });
    expect(applied.status).toBe(200);
    const [row] = (await h.repos.ds.query(
      `SELECT subnet_id FROM validators WHERE project_id = $1 AND name = 'l1-c'`,
      [t.projectId],
    )) as Json[];
    expect(row!.subnet_id).toBe(L1);
    const lock = (await (await h.api('/v1/plans/lock', { key: t.key })).json()) as Json;
    await h.api(`/v1/plans/lock?planId=${lock.planId as string}`, {
      method: 'DELETE',
      key: t.key,
    });

    const moved = (await (
      await plan([{ name: 'l1-c', network: 'fuji', subnetId: OTHER_L1 }])
    ).json()) as Json;
    const a = moved.actions.find((x: Json) => x.name === 'l1-c');
    expect(a).toMatchObject({ action: 'replace' });
    expect(a.reason).toMatch(`subnet_id cannot change in place (${L1} → ${OTHER_L1})`);
    expect(a.changes).toContainEqual({
      field: 'subnetId',
      before: L1,
      after: OTHER_L1,
      forcesReplacement: true,
    });
  });
});
