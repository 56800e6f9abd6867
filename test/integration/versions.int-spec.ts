import { UpgradeDeadlineLoop } from '../../apps/worker/src/versions/upgrade-deadline-loop.service';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

const DAY = 86_400_000;

/**
 * Versions through the public API (spec version and policy validated and stored, unknown versions
 * refused with a 400 that names the fix) and the deadline warning: a test activation ten days out
 * (NETWORK_UPGRADES, inside UPGRADE_WARNING_DAYS), the worker's loop run twice, one
 * `version.upgrade_required` per validator that will not survive it.
 */
describe('AvalancheGo versions and deadline warnings', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let loop: UpgradeDeadlineLoop;
  const activation = new Date(Math.ceil((Date.now() + 10 * DAY) / 1000) * 1000);

  const create = (body: Json) =>
    h.api('/v1/validators', { method: 'POST', key: t.key, json: body });
  const patch = (id: string, body: Json) =>
    h.api(`/v1/validators/${id}`, { method: 'PATCH', key: t.key, json: body });

  beforeAll(async () => {
    h = await startApiApp('versions', {
      NETWORK_UPGRADES: `fuji/Testicon/${activation.toISOString()}/1.15.3`,
      UPGRADE_WARNING_DAYS: '30',
    });
    t = await h.tenant('versions', ['admin']);
    loop = new UpgradeDeadlineLoop(h.repos, h.config);
  }, 60_000);
  afterAll(async () => {
    await loop?.onApplicationShutdown();
    await h?.stop();
  });

  it('should store the spec version (the fleet default when none) and the upgrade policy', async () => {
    const r = await create({
      network: 'fuji',
      name: 'pinned',
      version: 'v1.15.2',
      upgrade: 'before-deadline',
    });
    expect(r.status).toBe(202);
    const v = (await r.json()) as Json;
    expect(v).toMatchObject({
      version: '1.15.2',
      runningVersion: null, // nothing runs it yet: unknown
      runningVersionObservedAt: null,
      upgradePolicy: 'before-deadline',
      nextUpgrade: {
        network: 'fuji',
        name: 'Testicon',
        activatesAt: activation.toISOString(),
        minVersion: '1.15.3',
        source: 'NETWORK_UPGRADES',
        survives: false,
        warning: true,
      },
    });
    expect(v.nextUpgrade.message).toContain('the spec names 1.15.2');
    const d = (await (await create({ network: 'fuji', name: 'default' })).json()) as Json;
    expect(d).toMatchObject({
      version: '1.15.3',
      upgradePolicy: 'manual',
      // The spec survives; what runs is unknown, so it is not judged either way.
      nextUpgrade: { name: 'Testicon', survives: null, warning: false },
    });
    const m = (await (await create({ network: 'mainnet', name: 'main' })).json()) as Json;
    // Mainnet's published activations have all passed: nothing ahead.
    expect(m).toMatchObject({ version: '1.15.3', nextUpgrade: null });
  });

  it.each<[Json, string]>([
    [
      { network: 'fuji', version: '1.16.0' },
      'version: 1.16.0 has no pinned release (AVALANCHEGO_RELEASES); use one of 1.14.0',
    ],
    [{ network: 'fuji', version: 'latest' }, 'version: "latest" is not an AvalancheGo version'],
    [
      { network: 'mainnet', version: '1.15.0-fuji' },
      'version: 1.15.0-fuji is a Fuji pre-release: it refuses to run mainnet',
    ],
    [{ network: 'fuji', upgrade: 'sometimes' }, 'upgrade must be one of: manual, before-deadline'],
  ])('should refuse %j with a 400 that says what to fix', async (body, detail) => {
    const r = await create(body);
    expect(r.status).toBe(400);
    expect(((await r.json()) as Json).detail).toContain(detail);
  });

  it('should change the version by PATCH, record it in the event, and refuse an unknown one', async () => {
    const v = (await (
      await create({ network: 'fuji', name: 'patched', version: '1.15.1' })
    ).json()) as Json;
    const r = await patch(v.id, { version: '1.15.3', upgrade: 'before-deadline' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ version: '1.15.3', upgradePolicy: 'before-deadline' });
    const [e] = (await h.repos.ds.query(
      `SELECT data FROM events WHERE validator_id = $1 AND type = 'validator.updated'`,
      [v.id],
    )) as { data: Json }[];
    expect(e!.data).toEqual({
      fields: ['avalanchegoVersion', 'upgradePolicy'],
      version: { from: '1.15.1', to: '1.15.3' },
    });
    const bad = await patch(v.id, { version: '9.9.9' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).detail).toContain('9.9.9 has no pinned release');
  });

  it('should list the next activation and the validators at risk for the console banner', async () => {
    const r = await h.api('/v1/network-upgrades', { key: t.key });
    expect(r.status).toBe(200);
    const body = (await r.json()) as Json;
    expect(body.warningDays).toBe(30);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      network: 'fuji',
      name: 'Testicon',
      warning: true,
      validatorsUnknown: 2, // `default` and `patched` ask for 1.15.3; what they run is unknown
    });
    expect(body.items[0].validatorsAtRisk.map((v: Json) => [v.name, v.cause])).toEqual([
      ['pinned', 'spec'],
    ]);
  });

  it('should plan versions: refuse an unknown one at its path, warn about the deadline, apply it', async () => {
    const plan = (validators: Json[]) =>
      h.api('/v1/plans', { method: 'POST', key: t.key, json: { validators } });
    const bad = await plan([{ name: 'planned', network: 'fuji', version: '1.16.0' }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).detail).toMatch(
      /^validators\.planned\.version: 1\.16\.0 has no pinned release/,
    );
    // Validators made by the API are not the file's: it leaves them alone.
    const r = await plan([
      { name: 'planned', network: 'fuji', version: '1.15.2', upgrade: 'before-deadline' },
    ]);
    expect(r.status).toBe(201);
    const body = (await r.json()) as Json;
    const byName = Object.fromEntries(body.actions.map((a: Json) => [a.name, a]));
    expect(byName.planned).toMatchObject({ action: 'create' });
    expect(byName.planned.warnings).toEqual([
      expect.stringContaining('avalanchego 1.15.2 will not survive Testicon'),
    ]);
    const applied = await h.api(`/v1/plans/${body.id}/apply`, {
      method: 'POST',
      key: t.key,
      json: {},
    });
    expect(applied.status).toBe(200);
    const list = (await (await h.api('/v1/validators?limit=50', { key: t.key })).json()) as Json;
    const planned = list.items.find((v: Json) => v.name === 'planned');
    expect(planned).toMatchObject({ version: '1.15.2', upgradePolicy: 'before-deadline' });
  });

  it('should warn once per validator and activation, with the deadline, however often it runs', async () => {
    const first = await loop.check(Date.now());
    expect(first).toMatchObject({ atRisk: 2, warned: 2, unknown: 2 });
    const again = await loop.check(Date.now() + 60_000);
    expect(again).toMatchObject({ atRisk: 2, warned: 0 });
    const events = (await h.repos.ds.query(
      `SELECT v.name, e.message, e.data FROM events e JOIN validators v ON v.id = e.validator_id
        WHERE e.type = 'version.upgrade_required' AND e.project_id = $1`,
      [t.projectId],
    )) as Json[];
    expect(events.map((e) => e.name).sort()).toEqual(['pinned', 'planned']);
    expect(events.find((e) => e.name === 'pinned')).toMatchObject({
      name: 'pinned',
      data: {
        network: 'fuji',
        upgrade: 'Testicon',
        deadline: activation.toISOString(),
        minVersion: '1.15.3',
        version: '1.15.2',
        runningVersion: null,
        cause: 'spec',
        upgradePolicy: 'before-deadline',
      },
    });
    expect(events.find((e) => e.name === 'pinned')!.message).toContain(
      'Validator pinned will not survive Testicon',
    );
    // Out of the window (more than UPGRADE_WARNING_DAYS ahead), nobody is warned.
    expect(await loop.check(activation.getTime() - 31 * DAY)).toMatchObject({
      checked: 0,
      warned: 0,
    });
  });
});
