/**
 * `npm run bench:sim`: 10,000 instances with hosts (real agents + simulated nodes) in one simulator
 * process, driven through the real ECS SDK. Prints one JSON line:
 * `{ instances, rss_mb, describe_100_p50_ms, boot_10k_s, nodes_up_s }`: boot = every instance Running
 * with its host; nodes_up = every agent has its keys and its node running (null if not within
 * BENCH_NODES_TIMEOUT_S, default 300). BENCH_INSTANCES overrides the count (for a quick run).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Ecs20140526, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { generateIdentity } from '@snowline/avalanche';
import { AlibabaEcsProvider } from '@snowline/cloud';
import { startEcsSim } from '../apps/ecs-sim/src/sim';

const KEY_ID = 'bench-key';
const SECRET = 'bench-secret';
const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
/**
 * The stub hands out a 30 s renew interval (Snowline's default is 10 s): 10,000 agents renewing every
 * 10 s are 1,000 HTTP rounds a second in this one process, which on a shared 2-core machine starves
 * the very calls being measured. BENCH_RENEW_S=10 measures the production cadence.
 */
const RENEW_S = Number(process.env.BENCH_RENEW_S ?? 30);
const LEASE_TTL_S = RENEW_S * 4.5;

/** A stub control plane: every agent registers, is assigned one shared identity, and renews. */
async function stubControlPlane(): Promise<{
  url: string;
  server: Server;
  requests: () => number;
}> {
  const id = await generateIdentity();
  let requests = 0;
  const keys = JSON.stringify({
    generation: 1,
    stakerCrt: id.stakerCrt,
    stakerKey: id.stakerKey,
    signerKey: id.signerKey.toString('base64'),
  });
  const validatorId = randomUUID();
  const server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        hostId?: string;
      };
      let out: string;
      if (req.url === '/v1/agent/register') {
        out = JSON.stringify({
          hostId: body.hostId,
          leaseTtlSeconds: LEASE_TTL_S,
          renewIntervalSeconds: RENEW_S,
        });
      } else if (req.url === '/v1/agent/lease') {
        out = JSON.stringify({
          role: 'assigned',
          assignment: { validatorId, generation: 1, nodeId: id.nodeId },
          leaseExpiresAt: new Date(Date.now() + LEASE_TTL_S * 1000).toISOString(),
          leaseTtlSeconds: LEASE_TTL_S,
        });
      } else out = keys;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests: () => requests,
  };
}

/** BENCH_VERBOSE=1: memory per phase on stderr (the JSON line on stdout stays the only output). */
function phase(name: string): void {
  if (!process.env.BENCH_VERBOSE) return;
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 1024 / 1024);
  process.stderr.write(
    `${JSON.stringify({ phase: name, t_s: Number((performance.now() / 1000).toFixed(1)), rss_mb: mb(m.rss), heap_used_mb: mb(m.heapUsed), heap_total_mb: mb(m.heapTotal), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers) })}\n`,
  );
}

async function main(): Promise<void> {
  const count = Number(process.env.BENCH_INSTANCES ?? 10_000);
  phase('start');
  const cp = await stubControlPlane();
  const sim = await startEcsSim({
    port: 0,
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    bootstrapMs: 1000,
    maxInstances: count + 100,
  });
  const endpoint = `127.0.0.1:${sim.port}`;
  const sdk = new Ecs20140526(
    new $OpenApiUtil.Config({
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      regionId: 'cn-hongkong',
      endpoint,
      protocol: 'http',
      readTimeout: 30_000,
    }),
  );
  const cloud = new AlibabaEcsProvider({
    provider: 'sim',
    region: 'cn-hongkong',
    zones: ZONES,
    vswitches: Object.fromEntries(ZONES.map((z) => [z, `vsw-sim-${z.slice(-1)}`])),
    securityGroupId: 'sg-sim-default',
    imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
    endpoint,
    protocol: 'http',
    accessKeyId: KEY_ID,
    accessKeySecret: SECRET,
    timeoutMs: 30_000,
    defaultInstanceType: 'ecs.g7.2xlarge',
  });

  const t0 = performance.now();
  const ids: string[] = [];
  for (let launched = 0; launched < count;) {
    const amount = Math.min(100, count - launched);
    const zone = ZONES[((launched / 100) % ZONES.length) | 0]!;
    const userData = JSON.stringify({
      snowline: 1,
      controlPlaneUrl: cp.url,
      hostId: randomUUID(),
      bootstrapToken: randomUUID() + randomUUID(),
    });
    const res = await sdk.runInstances(
      new $Ecs.RunInstancesRequest({
        regionId: 'cn-hongkong',
        zoneId: zone,
        instanceType: 'ecs.g7.2xlarge',
        imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
        vSwitchId: `vsw-sim-${zone.slice(-1)}`,
        securityGroupId: 'sg-sim-default',
        amount,
        clientToken: `bench-${launched}`,
        userData: Buffer.from(userData).toString('base64'),
        tag: [new $Ecs.RunInstancesRequestTag({ key: 'snowline:project', value: 'bench' })],
      }),
    );
    ids.push(...(res.body?.instanceIdSets?.instanceIdSet ?? []));
    launched += amount;
  }
  phase('launched');
  // Booted = every instance Running with its host (agent) attached: the cloud's side of a boot.
  const hosted = (): number => {
    let n = 0;
    for (const i of sim.state.instances.values()) if (i.status === 'Running' && i.host) n++;
    return n;
  };
  while (hosted() < count) {
    if (performance.now() - t0 > 300_000)
      throw new Error(`only ${hosted()}/${count} hosted after 300 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const bootS = (performance.now() - t0) / 1000;
  phase('booted');
  // Then every node up: its agent registered, got the assignment and keys, and started the node.
  const nodesUp = async (): Promise<number> => {
    const reports = await Promise.all(
      [...sim.state.instances.values()].map(async (i) =>
        i.host?.report ? (await i.host.report()).running : false,
      ),
    );
    return reports.filter(Boolean).length;
  };
  let nodesUpS: number | null = null;
  const nodesDeadline = Number(process.env.BENCH_NODES_TIMEOUT_S ?? 300) * 1000;
  for (;;) {
    if ((await nodesUp()) >= count) {
      nodesUpS = (performance.now() - t0) / 1000;
      break;
    }
    if (performance.now() - t0 > nodesDeadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  phase('nodes up');

  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const start = Math.floor(Math.random() * Math.max(1, ids.length - 100));
    const batch = ids.slice(start, start + 100);
    const t = performance.now();
    const got = await cloud.describe(batch);
    samples.push(performance.now() - t);
    if (got.length !== batch.length)
      throw new Error(`describe returned ${got.length}/${batch.length}`);
  }
  samples.sort((a, b) => a - b);
  phase('described');
  global.gc?.();
  phase('after gc');
  const rssMb = process.memoryUsage().rss / 1024 / 1024;

  process.stdout.write(
    `${JSON.stringify({
      instances: sim.state.instances.size,
      rss_mb: Math.round(rssMb),
      describe_100_p50_ms: Number(samples[Math.floor(samples.length / 2)]!.toFixed(2)),
      boot_10k_s: Number(bootS.toFixed(2)),
      nodes_up_s: nodesUpS === null ? null : Number(nodesUpS.toFixed(2)),
    })}\n`,
  );
  await sim.close();
  await new Promise<void>((r) => {
    cp.server.close(() => r());
    cp.server.closeAllConnections();
  });
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
