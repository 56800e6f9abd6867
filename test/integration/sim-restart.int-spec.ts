import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlibabaEcsProvider, type EcsCloudConfig } from '@snowline/cloud';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';

const KEY_ID = 'restart-key';
const SECRET = 'restart-secret';
const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

function cloudConfig(sim: EcsSim): EcsCloudConfig {
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
  };
}

async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A protocol-2 control plane stub: accepts every register and records how it was authenticated. */
function controlPlane(): Promise<{
  url: string;
  server: Server;
  registers: { hostId: string; scheme: string }[];
}> {
  const registers: { hostId: string; scheme: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        hostId?: string;
      };
      if (req.url === '/v1/agent/register') {
        registers.push({
          hostId: body.hostId ?? '',
          scheme: String(req.headers.authorization ?? '').split(' ')[0]!,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            hostId: body.hostId,
            protocol: 2,
            leaseTtlSeconds: 45,
            renewIntervalSeconds: 30,
          }),
        );
        return;
      }
      // No lease: the hosts stay registered and idle, which is all this test looks at.
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        server,
        registers,
      }),
    ),
  );
}

describe('ecs-sim restart (SNOWLINE_DATA_DIR)', () => {
  let dir: string;
  let cp: Awaited<ReturnType<typeof controlPlane>>;
  const sims: EcsSim[] = [];
  const start = async (reset = false): Promise<EcsSim> => {
    const sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeScale: 0.05,
      bootstrapMs: 0,
      dataDir: dir,
      reset,
    });
    sims.push(sim);
    return sim;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'snowline-sim-restart-'));
    cp = await controlPlane();
  });
  afterAll(async () => {
    for (const s of sims) await s.close();
    await new Promise((r) => cp.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('should find its instances Running after a restart, their agents signing with their bound keys', async () => {
    const hostIds = [randomUUID(), randomUUID()];
    const first = await start();
    const cloud = new AlibabaEcsProvider(cloudConfig(first));
    const ids: string[] = [];
    for (const [i, hostId] of hostIds.entries()) {
      ids.push(
        await cloud.launch({
          clientToken: `restart-${hostId}`,
          zoneId: ZONES[i]!,
          instanceType: 'ecs.g7.2xlarge',
          tags: { 'snowline:host': hostId },
          userData: JSON.stringify({
            snowline: 2,
            controlPlaneUrl: cp.url,
            hostId,
            bootstrapToken: 't'.repeat(40),
          }),
        }),
      );
    }
    const stoppedId = await cloud.launch({
      clientToken: `restart-stopped-${process.pid}`,
      zoneId: 'cn-hongkong-b',
      instanceType: 'ecs.c7.xlarge',
      tags: { role: 'spare' },
    });
    await waitFor(
      async () =>
        (await cloud.describe([...ids, stoppedId])).every((i) => i.status === 'Running') ||
        undefined,
    );
    await cloud.stop([stoppedId]);
    await waitFor(
      async () => (await cloud.describe([stoppedId]))[0]?.status === 'Stopped' || undefined,
    );
    // Each agent registered once with its bootstrap token and bound its key.
    await waitFor(() => (cp.registers.length >= 2 ? true : undefined));
    const certBefore = await (await fetch(`${first.url}/_sim/identity-certificate`)).text();
    const before = await cloud.describe([...ids, stoppedId]);
    await first.close();
    expect(cp.registers.map((r) => r.scheme)).toEqual(['Bearer', 'Bearer']);

    const second = await start();
    const again = new AlibabaEcsProvider(cloudConfig(second));
    const after = await again.describe([...ids, stoppedId]);
    expect(after.map((i) => [i.instanceId, i.status, i.zoneId, i.tags]).sort()).toEqual(
      before.map((i) => [i.instanceId, i.status, i.zoneId, i.tags]).sort(),
    );
    expect(
      after
        .filter((i) => i.status === 'Running')
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(await (await fetch(`${second.url}/_sim/identity-certificate`)).text()).toBe(certBefore);
    // The hosts booted again: each agent signs its register with the key it bound before.
    await waitFor(() => (cp.registers.length >= 4 ? true : undefined));
    expect(cp.registers.slice(2).map((r) => r.scheme)).toEqual(['Snowline-Host', 'Snowline-Host']);
    expect(
      cp.registers
        .slice(2)
        .map((r) => r.hostId)
        .sort(),
    ).toEqual([...hostIds].sort());
    // The staking keys were on tmpfs: no node runs until the control plane re-arms the host.
    const nodes = (await (await fetch(`${second.url}/_sim/nodes`)).json()) as {
      instanceId: string;
      hosted: boolean;
      running: boolean;
    }[];
    for (const id of ids)
      expect(nodes.find((n) => n.instanceId === id)).toMatchObject({
        hosted: true,
        running: false,
      });
    // A replayed ClientToken from before the restart names the same instance.
    expect(
      await again.launch({
        clientToken: `restart-stopped-${process.pid}`,
        zoneId: 'cn-hongkong-b',
        instanceType: 'ecs.c7.xlarge',
        tags: { role: 'spare' },
      }),
    ).toBe(stoppedId);

    // The instances-vanish fault: the region loses them, and a restart does not bring them back.
    const res = await fetch(`${second.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'instances-vanish', instanceIds: [ids[0]] }),
    });
    expect(res.status).toBe(201);
    expect(await again.describe([ids[0]!])).toEqual([]);
    await second.close();
    const third = await start();
    const survivors = await new AlibabaEcsProvider(cloudConfig(third)).describe([
      ...ids,
      stoppedId,
    ]);
    expect(survivors.map((i) => i.instanceId).sort()).toEqual([ids[1]!, stoppedId].sort());
    await third.close();

    // --reset starts from an empty region.
    const fourth = await start(true);
    expect(await new AlibabaEcsProvider(cloudConfig(fourth)).describe([...ids, stoppedId])).toEqual(
      [],
    );
  });
});
