import { AlibabaEcsProvider, InvalidConfig, Transient, type EcsCloudConfig } from '@snowline/cloud';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import type { SimHostContext } from '../../apps/ecs-sim/src/state';

const KEY_ID = 'faults-key';
const SECRET = 'faults-secret';

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ecs-sim fault API', () => {
  let sim: EcsSim;
  let cloud: AlibabaEcsProvider;
  let config: EcsCloudConfig;
  const contexts = new Map<string, SimHostContext>();
  let seq = 0;

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeScale: 0.05,
      hostFactory: (ctx) => {
        contexts.set(ctx.instanceId, ctx);
        let on = true;
        return {
          stop: () => (on = false),
          powerOff: () => (on = false),
          powerOn: () => (on = true),
          handle: () => Promise.resolve({ status: 200, body: { healthy: on } }),
          report: () => ({ nodeId: `NodeID-${ctx.instanceId}`, running: on, bootstrapped: on }),
        };
      },
    });
    const zones = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
    config = {
      provider: 'sim',
      region: 'cn-hongkong',
      zones,
      vswitches: Object.fromEntries(zones.map((z) => [z, `vsw-sim-${z.slice(-1)}`])),
      securityGroupId: 'sg-sim-default',
      imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
      endpoint: `127.0.0.1:${sim.port}`,
      protocol: 'http',
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeoutMs: 3000,
      defaultInstanceType: 'ecs.g7.2xlarge',
    };
    cloud = new AlibabaEcsProvider(config);
  });
  afterEach(async () => {
    await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' });
  });
  afterAll(() => sim.close());

  const launchRunning = async (zoneId: string): Promise<string> => {
    const id = await cloud.launch({
      clientToken: `faults-${++seq}`,
      zoneId,
      instanceType: 'ecs.g7.2xlarge',
      tags: {},
    });
    await waitFor(async () =>
      (await cloud.describe([id]))[0]?.status === 'Running' ? true : undefined,
    );
    return id;
  };
  const post = (body: unknown): Promise<Response> =>
    fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify(body) });
  const addFault = async (body: unknown): Promise<string> => {
    const res = await post(body);
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const endFault = (id: string): Promise<Response> =>
    fetch(`${sim.url}/_sim/faults/${id}`, { method: 'DELETE' });
  /** Ground truth, from the hosts rather than from ECS. */
  const node = async (
    instanceId: string,
  ): Promise<{ status: string; running: boolean; hosted: boolean } | undefined> => {
    const all = (await (await fetch(`${sim.url}/_sim/nodes`)).json()) as {
      instanceId: string;
      status: string;
      running: boolean;
      hosted: boolean;
    }[];
    return all.find((n) => n.instanceId === instanceId);
  };

  it('should add, list and end faults, and refuse a malformed one', async () => {
    const res = await post({
      kind: 'api-error',
      action: 'DescribeZones',
      code: 'InternalError',
      probability: 0.5,
    });
    expect(res.status).toBe(201);
    const fault = (await res.json()) as { id: string };
    expect(fault.id).toMatch(/^[0-9a-f-]{36}$/);
    const listed = (await (await fetch(`${sim.url}/_sim/faults`)).json()) as { id: string }[];
    expect(listed.map((f) => f.id)).toEqual([fault.id]);
    expect((await fetch(`${sim.url}/_sim/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(
      200,
    );
    expect((await fetch(`${sim.url}/_sim/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(
      404,
    );
    const bad = await post({ kind: 'zone-power-loss', zone: 'cn-hongkong-x' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ detail: [expect.stringContaining('zone')] });
    expect((await post({ kind: 'meteor' })).status).toBe(400);
  });

  it('should stop a zone on power loss and bring it back running its old state', async () => {
    const dark = await launchRunning('cn-hongkong-c');
    const lit = await launchRunning('cn-hongkong-d');
    const fault = (await (
      await post({ kind: 'zone-power-loss', zone: 'cn-hongkong-c' })
    ).json()) as { id: string };
    const statuses = await cloud.fullStatus([dark, lit]);
    expect(statuses.find((s) => s.instanceId === dark)).toMatchObject({
      status: 'Stopped',
      health: 'Impaired',
    });
    expect(statuses.find((s) => s.instanceId === lit)).toMatchObject({
      status: 'Running',
      health: 'OK',
    });
    await expect(cloud.delete([dark])).rejects.toBeInstanceOf(Transient);
    await expect(
      cloud.launch({
        clientToken: `faults-${++seq}`,
        zoneId: 'cn-hongkong-c',
        instanceType: 'ecs.g7.2xlarge',
        tags: {},
      }),
    ).rejects.toMatchObject({ name: 'NoCapacity' });
    await expect(fetch(`${sim.url}/_nodes/${dark}/ext/health`)).rejects.toThrow();
    const nodes = (await (await fetch(`${sim.url}/_sim/nodes`)).json()) as {
      instanceId: string;
      running: boolean;
    }[];
    expect(nodes.find((n) => n.instanceId === dark)).toMatchObject({ running: false });

    await fetch(`${sim.url}/_sim/faults/${fault.id}`, { method: 'DELETE' });
    await waitFor(async () =>
      (await cloud.describe([dark]))[0]?.status === 'Running' ? true : undefined,
    );
    const back = (await (await fetch(`${sim.url}/_sim/nodes`)).json()) as { instanceId: string }[];
    expect(back.find((n) => n.instanceId === dark)).toMatchObject({
      running: true,
      nodeId: `NodeID-${dark}`,
    });
    await cloud.delete([dark, lit]);
  });

  it('should cut a partitioned zone off from the control plane and from /_nodes', async () => {
    const id = await launchRunning('cn-hongkong-b');
    const ok = await fetch(`${sim.url}/_nodes/${id}/ext/health`);
    expect(ok.status).toBe(200);
    await post({ kind: 'zone-partition', zone: 'cn-hongkong-b' });
    await expect(contexts.get(id)!.fetch(`${sim.url}/_sim/healthz`)).rejects.toThrow(
      'fetch failed',
    );
    await expect(fetch(`${sim.url}/_nodes/${id}/ext/health`)).rejects.toThrow();
    expect((await cloud.describe([id]))[0]?.status).toBe('Running');
    await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    expect((await contexts.get(id)!.fetch(`${sim.url}/_sim/healthz`)).status).toBe(200);
    await cloud.delete([id]);
  });

  it('should inject an api-error only as often as its count allows', async () => {
    await post({
      kind: 'api-error',
      action: 'DescribeZones',
      code: 'ServiceUnavailable',
      count: 2,
    });
    await expect(cloud.zones()).rejects.toMatchObject({
      name: 'Transient',
      code: 'ServiceUnavailable',
    });
    await expect(cloud.zones()).rejects.toBeInstanceOf(Transient);
    await expect(cloud.zones()).resolves.toHaveLength(3);
  });

  it('should let an api-error with when=after take effect and lose the answer', async () => {
    await post({
      kind: 'api-error',
      action: 'RunInstances',
      code: 'ServiceUnavailable',
      when: 'after',
      count: 1,
    });
    const req = {
      clientToken: 'faults-after-1',
      zoneId: 'cn-hongkong-b',
      instanceType: 'ecs.g7.2xlarge',
      tags: { 'faults:case': 'after' },
    };
    await expect(cloud.launch(req)).rejects.toBeInstanceOf(Transient);
    const tagged = await cloud.listByTag('faults:case', 'after');
    expect(tagged).toHaveLength(1);
    // Replaying the ClientToken finds the instance the lost answer created.
    await expect(cloud.launch(req)).resolves.toBe(tagged[0]!.instanceId);
    expect(await cloud.listByTag('faults:case', 'after')).toHaveLength(1);
  });

  it('should let about `availability` of calls through a degraded region and refuse custom images', async () => {
    const res = await post({ kind: 'region-degraded', availability: 0.2, seed: 2022 });
    expect(res.status).toBe(201);
    const fault = (await res.json()) as { id: string; code: string; customImageCode: string };
    expect(fault).toMatchObject({
      code: 'ServiceUnavailable',
      customImageCode: 'InvalidImageId.NotFound',
    });
    let ok = 0;
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      try {
        await cloud.zones();
        ok++;
      } catch (err) {
        expect(err).toBeInstanceOf(Transient);
        codes.add((err as Transient).code ?? '');
      }
    }
    // Binomial(200, 0.2): 40 ± 11 at two standard deviations.
    expect(ok).toBeGreaterThanOrEqual(29);
    expect(ok).toBeLessThanOrEqual(51);
    expect([...codes]).toEqual(['ServiceUnavailable']);
    const listed = (await (await fetch(`${sim.url}/_sim/faults`)).json()) as { hits: number }[];
    expect(listed[0]!.hits).toBe(200 - ok);
    await fetch(`${sim.url}/_sim/faults/${fault.id}`, { method: 'DELETE' });

    // Only DescribeZones degraded: launches are not rolled, yet a custom image still fails every time.
    await post({ kind: 'region-degraded', availability: 0, actions: ['DescribeZones'] });
    await expect(cloud.zones()).rejects.toBeInstanceOf(Transient);
    const custom = new AlibabaEcsProvider({ ...config, imageId: 'm-j6csimsnowline0001' });
    const launch = (p: AlibabaEcsProvider) =>
      p.launch({
        clientToken: `faults-${++seq}`,
        zoneId: 'cn-hongkong-d',
        instanceType: 'ecs.g7.2xlarge',
        tags: {},
      });
    for (let i = 0; i < 3; i++) {
      await expect(launch(custom)).rejects.toMatchObject({
        name: InvalidConfig.name,
        code: 'InvalidImageId.NotFound',
      });
    }
    const fromPublic = await launch(cloud);
    await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' });
    const fromCustom = await launch(custom);
    await expect(cloud.zones()).resolves.toHaveLength(3);
    await waitFor(async () => {
      const all = await cloud.describe([fromPublic, fromCustom]);
      return all.length === 2 && all.every((i) => i.status === 'Running') ? true : undefined;
    });
    await cloud.delete([fromPublic, fromCustom]);
  });

  it('should report Stopped only delayMs after an instance really stopped (stopped-late)', async () => {
    const stopped = await launchRunning('cn-hongkong-b');
    const dark = await launchRunning('cn-hongkong-c');
    await addFault({ kind: 'stopped-late', zone: 'cn-hongkong-b', delayMs: 1000 });
    const darkLate = await addFault({ kind: 'stopped-late', instanceId: dark, delayMs: 60_000 });

    await cloud.stop([stopped]);
    const reallyStoppedAt = await waitFor(async () =>
      (await node(stopped))?.status === 'Stopped' ? Date.now() : undefined,
    );
    expect(await node(stopped)).toMatchObject({ running: false, hosted: false });
    expect((await cloud.describe([stopped]))[0]?.status).toBe('Stopping');
    expect((await cloud.fullStatus([stopped]))[0]).toMatchObject({ status: 'Stopping' });
    const seenStoppedAt = await waitFor(async () =>
      (await cloud.describe([stopped]))[0]?.status === 'Stopped' ? Date.now() : undefined,
    );
    // The lag runs from the real stop; polling every 20 ms blurs both ends a little.
    expect(seenStoppedAt - reallyStoppedAt).toBeGreaterThanOrEqual(900);
    expect(seenStoppedAt - reallyStoppedAt).toBeLessThan(1500);

    // After a power loss the lagging answer is the status before it: Running.
    const power = await addFault({ kind: 'zone-power-loss', zone: 'cn-hongkong-c' });
    expect(await node(dark)).toMatchObject({ status: 'Stopped', running: false });
    expect((await cloud.describe([dark]))[0]?.status).toBe('Running');
    expect((await cloud.fullStatus([dark]))[0]).toMatchObject({
      status: 'Running',
      health: 'Impaired',
    });
    await endFault(darkLate);
    expect((await cloud.describe([dark]))[0]?.status).toBe('Stopped');

    await endFault(power);
    await waitFor(async () =>
      (await cloud.describe([dark]))[0]?.status === 'Running' ? true : undefined,
    );
    await cloud.delete([stopped, dark]);
  });

  it('should keep a stopped or deleted instance running for delayMs (stop-lag)', async () => {
    const stopped = await launchRunning('cn-hongkong-d');
    const deleted = await launchRunning('cn-hongkong-d');
    await addFault({ kind: 'stop-lag', zone: 'cn-hongkong-d', delayMs: 1000 });

    const t0 = Date.now();
    await cloud.stop([stopped]);
    await cloud.delete([deleted]);
    // The cloud said yes to both; the guests did not notice.
    expect((await cloud.describe([stopped]))[0]?.status).toBe('Stopping');
    expect(await cloud.describe([deleted])).toEqual([]);
    expect(await node(stopped)).toMatchObject({ status: 'Stopping', hosted: true, running: true });
    expect(await node(deleted)).toMatchObject({ status: 'Deleted', hosted: true, running: true });
    expect((await fetch(`${sim.url}/_nodes/${deleted}/ext/health`)).status).toBe(200);

    const stoppedDiedAt = waitFor(async () =>
      (await node(stopped))?.running === false ? Date.now() : undefined,
    );
    const deletedDiedAt = waitFor(async () =>
      (await node(deleted)) === undefined ? Date.now() : undefined,
    );
    for (const diedAt of await Promise.all([stoppedDiedAt, deletedDiedAt])) {
      expect(diedAt - t0).toBeGreaterThanOrEqual(1000);
      expect(diedAt - t0).toBeLessThan(1600);
    }
    expect((await cloud.describe([stopped]))[0]?.status).toBe('Stopped');
    expect((await fetch(`${sim.url}/_nodes/${deleted}/ext/health`)).status).toBe(404);
    await cloud.delete([stopped]);
  });
});
