import { AlibabaEcsProvider, type CloudProvider } from '@snowline/cloud';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import { CatalogRefreshLoop } from '../../apps/worker/src/catalog/catalog-refresh-loop.service';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

const KEY_ID = 'catalog-key';
const SECRET = 'catalog-secret';
const VALID = 'ecs.c7.2xlarge, ecs.g7.2xlarge, ecs.g8i.2xlarge, ecs.g7.4xlarge';

/**
 * The instance-type catalog end to end: the worker's loop reads it from ecs-sim through the real ECS
 * SDK into Postgres; the API (no cloud client) refuses a type the region does not offer, or one below
 * AvalancheGo's minimum, with a 400 naming the valid types — on create, plan and apply — and changes
 * nothing when it refuses.
 */
describe(CatalogRefreshLoop.name, () => {
  let sim: EcsSim;
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let loop: CatalogRefreshLoop;

  const create = (body: Json) =>
    h.api('/v1/validators', { method: 'POST', key: t.key, json: body });
  const validators = async () =>
    (
      (await h.repos.ds.query(`SELECT count(*)::int AS n FROM validators WHERE project_id = $1`, [
        t.projectId,
      ])) as { n: number }[]
    )[0]!.n;
  const detail = async (r: Response) => ((await r.json()) as Json).detail as string;

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      hostFactory: () => null,
    });
    h = await startApiApp('instance-catalog', {
      ECS_SIM_PORT: String(sim.port),
      SIM_ACCESS_KEY_ID: KEY_ID,
      SIM_ACCESS_KEY_SECRET: SECRET,
    });
    t = await h.tenant('catalog', ['admin']);
    loop = new CatalogRefreshLoop(h.repos, new AlibabaEcsProvider(h.config.cloud), h.config);
  }, 60_000);
  afterAll(async () => {
    await loop?.onApplicationShutdown();
    await h?.stop();
    await sim?.close();
  });

  it('should accept any well-formed type while the catalog has not been read', async () => {
    const r = await create({ network: 'fuji', name: 'before', instanceType: 'ecs.nope.tiny' });
    expect(r.status).toBe(202);
  });

  let earlyPlan: string;
  it('should plan a too-small type while the catalog has not been read', async () => {
    const r = await h.api('/v1/plans', {
      method: 'POST',
      key: t.key,
      json: { validators: [{ name: 'small', network: 'fuji', instanceType: 'ecs.c7.xlarge' }] },
    });
    expect(r.status).toBe(201);
    earlyPlan = ((await r.json()) as Json).id as string;
  });

  it('should fill the catalog from DescribeAvailableResource and DescribeInstanceTypes', async () => {
    expect(await loop.tick()).toEqual({ rows: 18, types: 6 });
    const rows = await h.repos.catalog.list('cn-hongkong');
    expect(rows).toHaveLength(18);
    expect(rows.filter((r) => r.instanceType === 'ecs.g7.2xlarge')).toEqual(
      ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'].map((zoneId) => ({
        zoneId,
        instanceType: 'ecs.g7.2xlarge',
        status: 'Available',
        category: 'WithStock',
        vcpu: 8,
        memoryGiB: 32,
      })),
    );
  });

  it('should refuse a type the region does not offer with a 400 naming valid types', async () => {
    const before = await validators();
    const r = await create({ network: 'fuji', name: 'nope', instanceType: 'ecs.nope.tiny' });
    expect(r.status).toBe(400);
    expect(await detail(r)).toBe(
      `instanceType: ecs.nope.tiny is not offered in zones cn-hongkong-b, cn-hongkong-c, cn-hongkong-d; valid types (at least 8 vCPU / 16 GiB, AvalancheGo's minimum): ${VALID}.`,
    );
    expect(await validators()).toBe(before);
  });

  it('should refuse a type below the minimum with a 400 saying the minimum', async () => {
    const before = await validators();
    const r = await create({
      network: 'fuji',
      instanceType: 'ecs.c7.xlarge',
      zones: ['cn-hongkong-c'],
    });
    expect(r.status).toBe(400);
    expect(await detail(r)).toBe(
      `instanceType: ecs.c7.xlarge (4 vCPU / 8 GiB) is below AvalancheGo's minimum of 8 vCPU / 16 GiB; valid types: ${VALID}.`,
    );
    expect(await validators()).toBe(before);
  });

  it('should accept a type that the catalog offers and that meets the minimum', async () => {
    const r = await create({ network: 'fuji', name: 'good', instanceType: 'ecs.c7.2xlarge' });
    expect(r.status).toBe(202);
    expect(((await r.json()) as Json).instanceType).toBe('ecs.c7.2xlarge');
    // The default type is checked as well, and passes.
    expect((await create({ network: 'fuji', zones: ['cn-hongkong-b'] })).status).toBe(202);
  });

  it('should refuse a plan that would launch a bad type, storing no plan', async () => {
    const [{ n: before }] = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM plans WHERE project_id = $1`,
      [t.projectId],
    )) as { n: number }[];
    const r = await h.api('/v1/plans', {
      method: 'POST',
      key: t.key,
      json: { validators: [{ name: 'x', network: 'fuji', instanceType: 'ecs.nope.tiny' }] },
    });
    expect(r.status).toBe(400);
    expect(await detail(r)).toMatch(
      /^validators\.x\.instanceType: ecs\.nope\.tiny is not offered in zones .*; valid types .*ecs\.g7\.2xlarge/,
    );
    const [{ n: after }] = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM plans WHERE project_id = $1`,
      [t.projectId],
    )) as { n: number }[];
    expect(after).toBe(before);
  });

  it('should refuse at apply a plan made before the catalog said its type is too small', async () => {
    const before = await validators();
    const r = await h.api(`/v1/plans/${earlyPlan}/apply`, { method: 'POST', key: t.key, json: {} });
    expect(r.status).toBe(400);
    expect(await detail(r)).toContain(
      "validators.small.instanceType: ecs.c7.xlarge (4 vCPU / 8 GiB) is below AvalancheGo's minimum",
    );
    expect(await validators()).toBe(before);
    const p = (await (await h.api(`/v1/plans/${earlyPlan}`, { key: t.key })).json()) as Json;
    expect(p.status).toBe('planned');
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(404);
  });

  it('should keep the last catalog when a read fails', async () => {
    let reads = 0;
    const failing = {
      catalog: () => (reads++, Promise.reject(new Error('ECS down'))),
    } as unknown as CloudProvider;
    const broken = new CatalogRefreshLoop(h.repos, failing, h.config);
    await loop.onApplicationShutdown(); // hand over the loop's advisory lock
    expect(await broken.tick()).toBeNull();
    expect(reads).toBe(1);
    await broken.onApplicationShutdown();
    expect(await h.repos.catalog.list('cn-hongkong')).toHaveLength(18);
  });
});
