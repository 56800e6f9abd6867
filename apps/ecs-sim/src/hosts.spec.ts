import { randomUUID } from 'node:crypto';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { sha256Hex } from '@snowline/agent';
import { createAgentHostFactory } from './hosts';
import { simulatedRelease } from './releases';
import type { SimHost, SimHostContext } from './state';

/** A scripted control plane: registers, assigns generation 1 of `id`, hands out its keys. */
function controlPlane(id: GeneratedIdentity): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const json = (status: number, body: unknown): Response =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const path = new URL(String(input)).pathname;
    calls.push(path);
    const body = JSON.parse(String(init?.body ?? '{}')) as { hostId?: string };
    if (path === '/v1/agent/register') {
      return json(200, { hostId: body.hostId, leaseTtlSeconds: 45, renewIntervalSeconds: 10 });
    }
    if (path === '/v1/agent/lease') {
      return json(200, {
        role: 'assigned',
        assignment: { validatorId: randomUUID(), generation: 1, nodeId: id.nodeId },
        leaseExpiresAt: new Date(Date.now() + 45_000).toISOString(),
        leaseTtlSeconds: 45,
      });
    }
    if (path === '/v1/agent/keys') {
      return json(200, {
        generation: 1,
        stakerCrt: id.stakerCrt,
        stakerKey: id.stakerKey,
        signerKey: id.signerKey.toString('base64'),
      });
    }
    return json(404, {});
  };
  return { fetch: impl as typeof fetch, calls };
}

async function until(fn: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe(createAgentHostFactory.name, () => {
  let id: GeneratedIdentity;
  beforeAll(async () => {
    id = await generateIdentity();
  });

  const ctx = (userData: string, f: typeof fetch): SimHostContext => ({
    instanceId: 'i-j6test',
    zoneId: 'cn-hongkong-c',
    userData,
    fetch: f,
  });
  const snowlineUserData = JSON.stringify({
    snowline: 1,
    controlPlaneUrl: 'http://control.invalid:3000',
    hostId: randomUUID(),
    bootstrapToken: 'x'.repeat(40),
  });

  it('should run no host for UserData that is not Snowline’s', () => {
    const factory = createAgentHostFactory({ bootstrapMs: 0 });
    expect(factory(ctx('', fetch))).toBeNull();
    expect(factory(ctx('#!/bin/bash\necho hi', fetch))).toBeNull();
    expect(factory(ctx('{"snowline":2}', fetch))).toBeNull();
  });

  it('should run the agent, start the node from the control plane, and keep the node down after a power cut until the control plane re-arms it', async () => {
    const cp = controlPlane(id);
    const host = createAgentHostFactory({ bootstrapMs: 0 })(
      ctx(snowlineUserData, cp.fetch),
    ) as SimHost;
    expect(host).not.toBeNull();
    await until(async () => (await host.report!()).running);
    expect(await host.report!()).toEqual({
      nodeId: id.nodeId,
      running: true,
      bootstrapped: true,
      version: null, // UserData from before versions names no release: unknown
      validating: true,
      trackedSubnets: [],
    });
    expect(cp.calls.slice(0, 3)).toEqual([
      '/v1/agent/register',
      '/v1/agent/lease',
      '/v1/agent/keys',
    ]);
    const health = await host.handle('GET', '/ext/health', undefined);
    expect(health.status).toBe(200);

    host.powerOff!();
    await until(async () => !(await host.report!()).running);
    // Power returns: the keys lived on tmpfs and only the agent starts the node, so nothing runs
    // until the control plane answers — a host cut off from it stays dark.
    const refused: typeof fetch = () => Promise.reject(new TypeError('fetch failed'));
    host.powerOn!(ctx(snowlineUserData, refused));
    await new Promise((r) => setTimeout(r, 200));
    expect((await host.report!()).running).toBe(false);
    host.powerOff!();
    // …and once it can reach the control plane again, the agent asks and starts the node afresh.
    const back = controlPlane(id);
    host.powerOn!(ctx(snowlineUserData, back.fetch));
    await until(async () => (await host.report!()).running);
    expect((await host.report!()).nodeId).toBe(id.nodeId);
    expect(back.calls.slice(0, 3)).toEqual([
      '/v1/agent/register',
      '/v1/agent/lease',
      '/v1/agent/keys',
    ]);

    host.stop();
    await until(async () => !(await host.report!()).running);
  });

  it('should start an L1 host’s node tracking the L1 its UserData names, and report it', async () => {
    const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
    const cp = controlPlane(id);
    const ud = JSON.stringify({
      ...(JSON.parse(snowlineUserData) as object),
      nodeConfig: { 'track-subnets': L1 },
    });
    const leases: { node?: { running?: boolean; trackedSubnets?: string[] } }[] = [];
    const f = ((input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith('/v1/agent/lease')) leases.push(JSON.parse(String(init?.body)));
      return cp.fetch(input, init);
    }) as typeof fetch;
    const host = createAgentHostFactory({ bootstrapMs: 0 })(ctx(ud, f)) as SimHost;
    await until(async () => (await host.report!()).running);
    expect((await host.report!()).trackedSubnets).toEqual([L1]);
    // The agent's node report, which each lease renewal carries to the control plane, says so too.
    expect(leases[0]?.node?.trackedSubnets).toEqual([L1]);
    host.stop();
  });
});

describe('simulated host releases and network upgrades', () => {
  let id: GeneratedIdentity;
  beforeAll(async () => {
    id = await generateIdentity();
  });
  const userData = (version: string, sha256 = sha256Hex(simulatedRelease(version))) =>
    JSON.stringify({
      snowline: 1,
      controlPlaneUrl: 'http://control.invalid:3000',
      hostId: randomUUID(),
      bootstrapToken: 'x'.repeat(40),
      avalanchego: {
        version,
        network: 'fuji',
        url: `http://127.0.0.1:3100/_sim/releases/avalanchego-${version}.tar.gz`,
        sha256,
      },
    });
  const ctx = (ud: string, f: typeof fetch): SimHostContext => ({
    instanceId: 'i-j6release',
    zoneId: 'cn-hongkong-c',
    userData: ud,
    fetch: f,
  });

  it('should run the pinned release, then stop validating at an activation it is below', async () => {
    let now = Date.parse('2027-01-01T00:00:00Z');
    const calendar = [
      {
        network: 'fuji' as const,
        name: 'Test',
        activatesAt: now + 60_000,
        minVersion: '1.16.0',
        source: 'test',
      },
    ];
    const cp = controlPlane(id);
    const host = createAgentHostFactory({ bootstrapMs: 0, calendar, now: () => now })(
      ctx(userData('1.15.3'), cp.fetch),
    ) as SimHost;
    await until(async () => (await host.report!()).running);
    expect(await host.report!()).toMatchObject({ version: '1.15.3', validating: true });
    expect((await host.handle('GET', '/ext/health', undefined)).status).toBe(200);
    now += 60_000;
    expect(await host.report!()).toMatchObject({ running: true, validating: false });
    expect((await host.handle('GET', '/ext/health', undefined)).status).toBe(503);
    host.stop();
  });

  it('should never run a release whose SHA-256 is not the pinned one', async () => {
    const cp = controlPlane(id);
    const host = createAgentHostFactory({ bootstrapMs: 0 })(
      ctx(userData('1.15.3', 'f'.repeat(64)), cp.fetch),
    ) as SimHost;
    await until(async () => cp.calls.filter((c) => c === '/v1/agent/lease').length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await host.report!()).toMatchObject({ running: false, version: null });
    expect(cp.calls).not.toContain('/v1/agent/keys');
    host.stop();
  });
});

describe('agent host disk', () => {
  /** A protocol-2 control plane that binds the first key and records how each register was sent. */
  function bindingControlPlane() {
    const registers: string[] = [];
    const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const path = new URL(String(input)).pathname;
      const body = JSON.parse(String(init?.body ?? '{}')) as { hostId?: string };
      const auth = new Headers(init?.headers).get('authorization') ?? '';
      if (path === '/v1/agent/register') {
        registers.push(auth.split(' ')[0]!);
        return new Response(
          JSON.stringify({
            hostId: body.hostId,
            protocol: 2,
            leaseTtlSeconds: 45,
            renewIntervalSeconds: 10,
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        );
      }
      return new Response('{}', { status: 503 });
    };
    return { fetch: impl as typeof fetch, registers };
  }

  it('should boot a restarted instance’s agent from its disk: it signs its register with the bound key', async () => {
    const hostId = randomUUID();
    const userData = JSON.stringify({
      snowline: 2,
      controlPlaneUrl: 'http://control.invalid:3000',
      hostId,
      bootstrapToken: 'y'.repeat(40),
    });
    const cp = bindingControlPlane();
    let changes = 0;
    const factory = createAgentHostFactory({ bootstrapMs: 0 });
    const first = factory({
      instanceId: 'i-j6disk',
      zoneId: 'cn-hongkong-c',
      userData,
      fetch: cp.fetch,
      diskChanged: () => changes++,
    }) as SimHost;
    await until(async () => {
      const disk = first.disk!() as { hostKeys: { boundHostId: string | null } | null };
      return disk.hostKeys?.boundHostId === hostId;
    });
    expect(changes).toBeGreaterThan(0);
    const disk = JSON.parse(JSON.stringify(first.disk!())) as unknown;
    first.stop();

    // The simulator restarted: a new host on the same instance, booted from the saved disk.
    const second = factory({
      instanceId: 'i-j6disk',
      zoneId: 'cn-hongkong-c',
      userData,
      fetch: cp.fetch,
      disk,
    }) as SimHost;
    await until(() => Promise.resolve(cp.registers.length >= 2));
    expect(cp.registers.slice(0, 2)).toEqual(['Bearer', 'Snowline-Host']);
    expect(second.disk!()).toEqual(disk);
    second.stop();
  });
});
