import Ecs20140526, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import {
  AlibabaEcsProvider,
  CloudError,
  IdempotencyMismatch,
  InvalidConfig,
  NoCapacity,
  NotFound,
  QuotaExceeded,
  Throttled,
  Transient,
  type CloudInstance,
  type EcsCloudConfig,
} from '@snowline/cloud';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import type { SimHostContext } from '../../apps/ecs-sim/src/state';

const KEY_ID = 'contract-key';
const SECRET = 'contract-secret-do-not-leak';
const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

function cloudConfig(sim: EcsSim, over: Partial<EcsCloudConfig> = {}): EcsCloudConfig {
  return {
    provider: 'sim',
    region: 'cn-hongkong',
    zones: ZONES,
    vswitches: Object.fromEntries(ZONES.map((z) => [z, `vsw-sim-${z.slice(-1)}`])),
    securityGroupId: 'sg-sim-default',
    imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
    endpoint: `127.0.0.1:${sim.port}`,
    protocol: 'http',
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    timeoutMs: 3000,
    defaultInstanceType: 'ecs.g7.2xlarge',
    ...over,
  };
}

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

let tokenSeq = 0;
const token = (): string => `contract-${process.pid}-${++tokenSeq}`;

describe('AlibabaEcsProvider against ecs-sim (real SDK, real wire format)', () => {
  let sim: EcsSim;
  let cloud: AlibabaEcsProvider;
  const hosts: { ctx: SimHostContext; stopped: boolean }[] = [];

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeScale: 0.05,
      hostFactory: (ctx) => {
        if (!ctx.userData.startsWith('{"snowline"')) return null;
        const h = { ctx, stopped: false };
        hosts.push(h);
        return {
          stop: () => (h.stopped = true),
          handle: (method, path, body) =>
            Promise.resolve({
              status: 200,
              body: { method, path, body, instanceId: ctx.instanceId },
            }),
          report: () => ({
            nodeId: `NodeID-${ctx.instanceId}`,
            running: !h.stopped,
            bootstrapped: true,
          }),
        };
      },
    });
    cloud = new AlibabaEcsProvider(cloudConfig(sim));
  });

  afterEach(() => sim.faults.clear());
  afterAll(() => sim.close());

  const launch = (
    over: Partial<Parameters<AlibabaEcsProvider['launch']>[0]> = {},
  ): Promise<string> =>
    cloud.launch({
      clientToken: token(),
      zoneId: 'cn-hongkong-c',
      instanceType: 'ecs.g7.2xlarge',
      tags: { 'snowline:project': 'p1' },
      ...over,
    });

  const running = (id: string): Promise<CloudInstance> =>
    waitFor(async () => (await cloud.describe([id])).find((i) => i.status === 'Running'));

  it('should launch → Running → describe → delete, starting and stopping the host', async () => {
    const userData = JSON.stringify({ snowline: 1, pad: 'x'.repeat(30_000) });
    const id = await launch({ userData, tags: { 'snowline:host': 'h-1' }, name: 'validator-1' });
    expect(id).toMatch(/^i-[a-z0-9]{20}$/);
    const [first] = await cloud.describe([id]);
    expect(first).toMatchObject({
      instanceId: id,
      zoneId: 'cn-hongkong-c',
      instanceType: 'ecs.g7.2xlarge',
    });
    expect(['Pending', 'Starting', 'Running']).toContain(first!.status);
    const inst = await running(id);
    expect(inst.tags).toEqual({ 'snowline:host': 'h-1' });
    expect(inst.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
    const host = await waitFor(async () => hosts.find((h) => h.ctx.instanceId === id));
    expect(host.ctx.userData).toBe(userData);

    const nodeRes = await fetch(`${sim.url}/_nodes/${id}/ext/info`, {
      method: 'POST',
      body: JSON.stringify({ method: 'info.getNodeID' }),
    });
    expect(await nodeRes.json()).toMatchObject({
      method: 'POST',
      path: '/ext/info',
      instanceId: id,
    });
    const nodes = (await (await fetch(`${sim.url}/_sim/nodes`)).json()) as { instanceId: string }[];
    expect(nodes.find((n) => n.instanceId === id)).toMatchObject({
      zone: 'cn-hongkong-c',
      nodeId: `NodeID-${id}`,
      running: true,
      bootstrapped: true,
    });

    const [full] = await cloud.fullStatus([id]);
    expect(full).toEqual({ instanceId: id, status: 'Running', health: 'OK', events: [] });

    await cloud.delete([id]);
    expect(await cloud.describe([id])).toEqual([]);
    expect(host.stopped).toBe(true);
    await cloud.delete([id]); // already gone = success
  });

  it('should page past 100 instances in describe and listByTag', async () => {
    const raw = new Ecs20140526(
      new $OpenApiUtil.Config({
        accessKeyId: KEY_ID,
        accessKeySecret: SECRET,
        regionId: 'cn-hongkong',
        endpoint: `127.0.0.1:${sim.port}`,
        protocol: 'http',
      }),
    );
    const ids: string[] = [];
    for (const amount of [100, 50]) {
      const res = await raw.runInstances(
        new $Ecs.RunInstancesRequest({
          regionId: 'cn-hongkong',
          zoneId: 'cn-hongkong-d',
          instanceType: 'ecs.c7.xlarge',
          imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
          vSwitchId: 'vsw-sim-d',
          securityGroupId: 'sg-sim-default',
          amount,
          tag: [new $Ecs.RunInstancesRequestTag({ key: 'snowline:project', value: 'paging' })],
        }),
      );
      ids.push(...res.body!.instanceIdSets!.instanceIdSet!);
    }
    expect(ids).toHaveLength(150);
    const described = await cloud.describe([...ids, 'i-doesnotexist00000000']);
    expect(described.map((i) => i.instanceId).sort()).toEqual([...ids].sort());
    const tagged = await cloud.listByTag('snowline:project', 'paging');
    expect(tagged).toHaveLength(150);
    expect(await cloud.listByTag('snowline:project', 'nobody')).toEqual([]);
    await waitFor(async () =>
      (await cloud.describe(ids)).every((i) => i.status === 'Running') ? true : undefined,
    );
    await cloud.delete([...ids, 'i-doesnotexist00000000']);
    expect(await cloud.listByTag('snowline:project', 'paging')).toEqual([]);
  });

  it('should return the same id for a replayed ClientToken and refuse different parameters', async () => {
    const clientToken = token();
    const a = await launch({ clientToken });
    const b = await launch({ clientToken });
    expect(b).toBe(a);
    const err = await caught(launch({ clientToken, zoneId: 'cn-hongkong-b' }));
    expect(err).toBeInstanceOf(IdempotencyMismatch);
    expect(err).toMatchObject({ code: 'IdempotenceParamNotMatch', retryable: false });
    await running(a);
    await cloud.delete([a]);
  });

  it('should raise InvalidConfig for a wrong secret or key, never echoing the credentials', async () => {
    const wrong = new AlibabaEcsProvider(
      cloudConfig(sim, { accessKeySecret: 'a-wrong-secret-value' }),
    );
    const err = await caught(wrong.zones());
    expect(err).toBeInstanceOf(InvalidConfig);
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect((err as Error).message).not.toContain('a-wrong-secret-value');
    expect((err as Error).message).toMatch(/credentials rejected/);
    expect((err as CloudError).requestId).toMatch(/^[0-9A-F-]{36}$/);

    const unknown = new AlibabaEcsProvider(cloudConfig(sim, { accessKeyId: 'nobody-key' }));
    const err2 = await caught(unknown.zones());
    expect(err2).toBeInstanceOf(InvalidConfig);
    expect(err2).toMatchObject({ code: 'InvalidAccessKeyId.NotFound' });
    expect(JSON.stringify(err2) + (err2 as Error).message).not.toContain(SECRET);
  });

  it.each([
    ['OperationDenied.NoStock', NoCapacity],
    ['Zone.NotOnSale', NoCapacity],
    ['InvalidInstanceType.ZoneNotSupported', NoCapacity],
    ['QuotaExceed.ElasticQuota', QuotaExceeded],
    ['IncorrectInstanceStatus', Transient],
    ['IncorrectInstanceStatus.Initializing', Transient],
    ['InvalidZoneId.NotFound', InvalidConfig],
    ['InvalidVSwitchId.NotFound', InvalidConfig],
    ['InvalidImageId.NotFound', InvalidConfig],
    ['InvalidInstanceId.NotFound', NotFound],
    ['Throttling.Resource', Throttled],
    ['Throttling.User', Throttled],
    ['InternalError', Transient],
    ['ServiceUnavailable', Transient],
    ['IdempotenceParamNotMatch', IdempotencyMismatch],
    ['IdempotentParameterMismatch', IdempotencyMismatch],
  ])('should map %s to %p', async (code, cls) => {
    sim.faults.add({ kind: 'api-error', action: 'RunInstances', code, retryAfterMs: 1500 });
    const err = await caught(launch());
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({ code });
    if (err instanceof Throttled) expect(err.retryAfterMs).toBe(1500);
  });

  it('should default retryAfterMs when the cloud sends no x-acs-retry-after', async () => {
    sim.faults.add({ kind: 'api-error', action: 'DescribeZones', code: 'Throttling.Resource' });
    const err = await caught(cloud.zones());
    expect(err).toBeInstanceOf(Throttled);
    expect((err as Throttled).retryAfterMs).toBeGreaterThan(0);
  });

  it('should map the simulator’s own refusals', async () => {
    const badZone = new AlibabaEcsProvider(
      cloudConfig(sim, {
        vswitches: { ...cloudConfig(sim).vswitches, 'cn-hongkong-z': 'vsw-sim-z' },
      }),
    );
    await expect(
      badZone.launch({
        clientToken: token(),
        zoneId: 'cn-hongkong-z',
        instanceType: 'ecs.g7.2xlarge',
        tags: {},
      }),
    ).rejects.toMatchObject({
      name: 'InvalidConfig',
      code: 'InvalidZoneId.NotFound',
    });
    await expect(launch({ zoneId: 'cn-hongkong-q' })).rejects.toBeInstanceOf(InvalidConfig);
    const badImage = new AlibabaEcsProvider(cloudConfig(sim, { imageId: 'm-nope' }));
    await expect(
      badImage.launch({
        clientToken: token(),
        zoneId: 'cn-hongkong-b',
        instanceType: 'ecs.g7.2xlarge',
        tags: {},
      }),
    ).rejects.toMatchObject({
      name: 'InvalidConfig',
      code: 'InvalidImageId.NotFound',
    });
    const badVsw = new AlibabaEcsProvider(
      cloudConfig(sim, { vswitches: { 'cn-hongkong-b': 'vsw-nope' } }),
    );
    await expect(
      badVsw.launch({
        clientToken: token(),
        zoneId: 'cn-hongkong-b',
        instanceType: 'ecs.g7.2xlarge',
        tags: {},
      }),
    ).rejects.toMatchObject({
      name: 'InvalidConfig',
      code: 'InvalidVSwitchId.NotFound',
    });
    await expect(launch({ instanceType: 'ecs.t5.nano' })).rejects.toBeInstanceOf(InvalidConfig);

    sim.faults.add({ kind: 'no-stock', zone: 'cn-hongkong-b' });
    await expect(launch({ zoneId: 'cn-hongkong-b' })).rejects.toMatchObject({
      name: 'NoCapacity',
      code: 'OperationDenied.NoStock',
    });
    const stock = await cloud.stock('ecs.g7.2xlarge');
    expect(stock.sort((a, b) => a.zoneId.localeCompare(b.zoneId)).map((s) => s.category)).toEqual([
      'WithoutStock',
      'WithStock',
      'WithStock',
    ]);

    const pending = await launch();
    await expect(cloud.delete([pending])).rejects.toMatchObject({
      name: 'Transient',
      code: 'IncorrectInstanceStatus.Initializing',
    });
    await running(pending);
    await cloud.delete([pending]);
  });

  it('should stop instances, treat stopped or missing ones as stopped, and report full status', async () => {
    const id = await launch({ zoneId: 'cn-hongkong-b' });
    await running(id);
    await cloud.stop([id, 'i-doesnotexist00000000']);
    await waitFor(async () =>
      (await cloud.describe([id]))[0]?.status === 'Stopped' ? true : undefined,
    );
    await cloud.stop([id]);
    const [full] = await cloud.fullStatus([id]);
    expect(full).toMatchObject({ status: 'Stopped', health: 'NotApplicable' });
    await cloud.delete([id]);
  });

  it('should report an impaired instance with its system event', async () => {
    const id = await launch();
    await running(id);
    sim.faults.add({ kind: 'instance-failure', instanceIds: [id] });
    const [full] = await cloud.fullStatus([id]);
    expect(full).toMatchObject({ status: 'Running', health: 'Impaired' });
    expect(full!.events).toEqual([
      expect.objectContaining({
        type: 'SystemFailure.Reboot',
        status: 'Scheduled',
        eventId: expect.stringMatching(/^e-/),
      }),
    ]);
    await cloud.delete([id]);
  });

  it('should list the zones', async () => {
    expect((await cloud.zones()).map((z) => z.zoneId)).toEqual(ZONES);
  });

  it('should raise Transient for a refused connection and for a timeout', async () => {
    const closed = new AlibabaEcsProvider(cloudConfig(sim, { endpoint: '127.0.0.1:1' }));
    await expect(closed.zones()).rejects.toBeInstanceOf(Transient);
    const impatient = new AlibabaEcsProvider(cloudConfig(sim, { timeoutMs: 150 }));
    sim.faults.add({ kind: 'api-error', action: 'DescribeZones', latencyMs: 600 });
    const err = await caught(impatient.zones());
    expect(err).toBeInstanceOf(Transient);
    expect((err as Error).message).toMatch(/network error/);
  });

  it('should answer Throttling with x-acs-retry-after when the simulator rate-limits an action', async () => {
    const limited = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      hostFactory: () => null,
      rateLimits: { DescribeZones: { perSecond: 2, burst: 1 } },
    });
    try {
      const p = new AlibabaEcsProvider(cloudConfig(limited));
      await p.zones();
      const err = await caught(p.zones());
      expect(err).toBeInstanceOf(Throttled);
      expect((err as Throttled).retryAfterMs).toBeGreaterThan(0);
      expect((err as Throttled).retryAfterMs).toBeLessThanOrEqual(500);
      // The client-side bucket queues calls instead, so it never trips the cloud's limit.
      // (A little slower than the simulator's 2/s, so scheduling jitter cannot trip it.)
      const polite = new AlibabaEcsProvider(cloudConfig(limited), {
        rateLimits: { DescribeZones: { perSecond: 1.5, burst: 1 } },
      });
      await new Promise((r) => setTimeout(r, 600));
      const t0 = Date.now();
      await polite.zones();
      await polite.zones();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    } finally {
      await limited.close();
    }
  });
});
