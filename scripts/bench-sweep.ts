/**
 * `npm run bench:sweep`: one steady-state health sweep over 10,000 hosts. Prints one JSON line:
 * `{ hosts, sweep_ms, cloud_calls, cpu_ms, rss_mb }` for the measured sweep (after one warm-up sweep).
 *
 * - The simulator runs as a child process on a free loopback port with 10,000 Running instances whose
 *   UserData is not Snowline's, so they run no host: the sim stays light and the numbers are the
 *   sweeper's alone.
 * - Its own database (created, migrated, dropped), with 10,000 active validators, each on an assigned
 *   host whose lease and report are fresh: a sweep that finds nothing wrong, the common case.
 * - The sweeper is the worker's own `SweeperService`, built by `WorkerModule` without starting its
 *   loops (no `init()`), so nothing else sweeps meanwhile.
 * - cloud_calls are counted on the wire (ECS requests leaving this process), cpu_ms is this process's
 *   CPU time during the sweep, rss_mb its peak RSS sampled during the sweep.
 *
 * BENCH_HOSTS overrides the count; BENCH_TIMEOUT_S bounds the whole run (default 300);
 * BENCH_CLOUD_LATENCY_MS adds that much latency to every simulated DescribeInstancesFullStatus (a
 * loopback simulator answers in about a millisecond; a real region API takes tens to hundreds).
 * Targets: sweep_ms < 5000, cloud_calls ≤ hosts/100 + 10, rss_mb < 300.
 */
import 'reflect-metadata';
import { launchForeignFleet } from './support/sim-fleet';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Test, type TestingModule } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@snowline/config';
import { openDatabase } from '@snowline/persistence';
import { createRedis } from '@snowline/queue';
import { SweeperService } from '../apps/worker/src/health/sweeper.service';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { createTestDatabase } from '../test/support/db';

const KEY_ID = 'bench-sweep-key';
const SECRET = 'bench-sweep-secret';
const REGION = 'cn-hongkong';
const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
const INSTANCE_TYPE = 'ecs.g7.2xlarge';
/** Not `{ "snowline": 1, … }`: the simulator runs no host (agent, node) for these instances. */

const log = (msg: string): void => void process.stderr.write(`bench-sweep: ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Cleanups run last-in first-out, once, whether the run succeeds, fails or times out. */
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      await Promise.race([
        c.run(),
        sleep(10_000).then(() => Promise.reject(new Error('timed out'))),
      ]).catch((err: unknown) => log(`cleanup ${c.name} failed: ${(err as Error).message}`));
    }
  })();
  return cleaning;
}

async function startSimChild(): Promise<{ child: ChildProcess; port: number }> {
  const main = join(__dirname, '../apps/ecs-sim/src/main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      ECS_SIM_HOST: '127.0.0.1',
      ECS_SIM_PORT: '0',
      SIM_ACCESS_KEY_ID: KEY_ID,
      SIM_ACCESS_KEY_SECRET: SECRET,
      SIM_RATE_LIMITS: 'false',
      CLOUD_REGION: REGION,
      CLOUD_ZONES: ZONES.join(','),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Never outlive the bench, even on an uncaught crash.
  const killChild = () => void child.kill('SIGKILL');
  process.once('exit', killChild);
  cleanups.push({
    name: 'simulator',
    run: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the simulator did not start within 20 s')),
      20_000,
    );
    child.once('exit', (code) =>
      reject(new Error(`the simulator exited (${code}) before listening`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; url?: string };
        if (m.msg === 'listening' && m.url) {
          clearTimeout(timer);
          resolve(Number(new URL(m.url).port));
        }
      } catch {
        // not a JSON log line
      }
    });
  });
  return { child, port };
}

/** The fleet: real simulator instances for the sweep's Describe, no agents (scripts/support/sim-fleet). */
const launch = (port: number, count: number) =>
  launchForeignFleet(port, count, {
    keyId: KEY_ID,
    secret: SECRET,
    name: 'bench-sweep',
    tag: 'bench-sweep',
    timeoutMs: 60_000,
  });

/** One project; per instance a staking identity, an active validator and its assigned, healthy host. */
async function seed(ds: DataSource, ids: string[], zones: string[]): Promise<void> {
  const projectId = randomUUID();
  await ds.transaction(async (tx) => {
    await tx.query(`INSERT INTO projects (id, name) VALUES ($1, 'bench-sweep')`, [projectId]);
    await tx.query(
      `CREATE TEMP TABLE bench_src ON COMMIT DROP AS
         SELECT i, iid, zone, gen_random_uuid() AS sid, gen_random_uuid() AS vid, gen_random_uuid() AS hid
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(iid, zone, i)`,
      [ids, zones],
    );
    await tx.query(
      `INSERT INTO staking_identities (id, project_id, node_id, bls_public_key, proof_of_possession,
                                       wrapped_data_key, sealed_keys, master_key_id)
         SELECT sid, $1, 'NodeID-bench' || i, 'bls-' || i, 'pop-' || i, '\\x00', '\\x00', 'bench'
           FROM bench_src`,
      [projectId],
    );
    await tx.query(
      `INSERT INTO validators (id, project_id, name, network, instance_type, zones, state, generation,
                               identity_id, node_id, host_id, zone, instance_id, active_at)
         SELECT vid, $1, 'bench-' || i, 'fuji', $2, ARRAY[zone], 'active', 1,
                sid, 'NodeID-bench' || i, hid, zone, iid, now() - interval '1 hour'
           FROM bench_src`,
      [projectId, INSTANCE_TYPE],
    );
    await tx.query(
      `INSERT INTO hosts (id, project_id, validator_id, role, zone, instance_type, client_token,
                          instance_id, generation, cloud_status, bootstrap_token_hash, registered_at,
                          lease_expires_at, last_report, last_report_at, keys_fetched_generation,
                          network, health, health_reason, health_since, cloud_health, cloud_observed_at,
                          created_at)
         SELECT hid, $1, vid, 'assigned', zone, $2, 'bench-sweep-' || i,
                iid, 1, 'Running', encode(sha256(('bench-' || hid)::bytea), 'hex'), now() - interval '1 hour',
                now() + interval '45 seconds',
                jsonb_build_object('running', true, 'nodeId', 'NodeID-bench' || i, 'healthy', true,
                                   'bootstrapped', true, 'observedAt', now()),
                now(), 1, 'fuji', 'healthy', 'lease fresh, instance running', now() - interval '1 hour',
                'OK', now(), now() - interval '2 hours'
           FROM bench_src`,
      [projectId, INSTANCE_TYPE],
    );
    await tx.query(
      `INSERT INTO zones (id, status, placement_allowed, hosts, unhealthy)
         SELECT zone, 'healthy', true, count(*), 0 FROM bench_src GROUP BY zone
         ON CONFLICT (id) DO NOTHING`,
    );
  });
  await ds.query('ANALYZE');
}

/** What 10,000 agents renewing every 10 s would have written by now: fresh leases and reports. */
async function renewAll(ds: DataSource): Promise<void> {
  await ds.query(
    `UPDATE hosts SET lease_expires_at = now() + interval '45 seconds', last_report_at = now(),
            last_report = jsonb_set(last_report, '{observedAt}', to_jsonb(now()))
      WHERE deleted_at IS NULL`,
  );
}

/**
 * Counts ECS API requests leaving this process (any action), independently of the sweeper's own
 * count, and times them on the wire: how much of a sweep is spent waiting for the cloud.
 */
function watchEcsCalls(port: number): {
  stop: () => {
    byAction: Record<string, number>;
    msInFlight: number;
    maxInFlight: number;
    p50Ms: number;
  };
} {
  const byAction: Record<string, number> = {};
  const started = new Map<ClientRequest, number>();
  const durations: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let busySince = 0;
  let msInFlight = 0;
  const onStart = (msg: unknown): void => {
    const req = (msg as { request: ClientRequest }).request;
    if (req.getHeader('host') !== `127.0.0.1:${port}`) return;
    const action = String(req.getHeader('x-acs-action') ?? req.path);
    byAction[action] = (byAction[action] ?? 0) + 1;
    started.set(req, performance.now());
    if (inFlight++ === 0) busySince = performance.now();
    maxInFlight = Math.max(maxInFlight, inFlight);
  };
  const onFinish = (msg: unknown): void => {
    const req = (msg as { request: ClientRequest }).request;
    const t0 = started.get(req);
    if (t0 === undefined) return;
    started.delete(req);
    const now = performance.now();
    durations.push(now - t0);
    if (--inFlight === 0) msInFlight += now - busySince;
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onFinish);
  return {
    stop: () => {
      unsubscribe('http.client.request.start', onStart);
      unsubscribe('http.client.response.finish', onFinish);
      durations.sort((a, b) => a - b);
      const p50Ms = durations[Math.floor(durations.length / 2)] ?? 0;
      return { byAction, msInFlight, maxInFlight, p50Ms };
    },
  };
}

async function main(): Promise<void> {
  const count = Number(process.env.BENCH_HOSTS ?? 10_000);
  if (!Number.isInteger(count) || count < 1)
    throw new Error('BENCH_HOSTS must be a positive integer');

  const { port } = await startSimChild();
  const db = await createTestDatabase('bench_sweep');
  cleanups.push({ name: 'database', run: () => db.drop() });
  const ds = await openDatabase(db.url, { poolSize: 2 });
  cleanups.push({ name: 'seed connection', run: () => ds.destroy() });

  let t = performance.now();
  const { ids, zones } = await launch(port, count);
  log(`${count} instances Running in ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  await seed(ds, ids, zones);
  log(`${count} validators and hosts inserted in ${Math.round(performance.now() - t)} ms`);

  const queuePrefix = `bench-sweep-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: queuePrefix,
    CLOUD_PROVIDER: 'sim',
    CLOUD_REGION: REGION,
    CLOUD_ZONES: ZONES.join(','),
    ECS_SIM_HOST: '127.0.0.1',
    ECS_SIM_PORT: String(port),
    SIM_ACCESS_KEY_ID: KEY_ID,
    SIM_ACCESS_KEY_SECRET: SECRET,
    // In memory: nothing is written to a data dir.
    SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  cleanups.push({
    name: 'queue keys',
    run: async () => {
      const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
          if (keys.length) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  });
  // compile() builds the worker's providers but runs no lifecycle hook: no loop sweeps behind our back.
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [WorkerModule.forRoot(config)],
  })
    .setLogger({
      log() {},
      warn: (m) => log(`worker warn: ${String(m)}`),
      error: (m) => log(`worker error: ${String(m)}`),
    })
    .compile();
  cleanups.push({ name: 'worker', run: () => moduleRef.close() });
  const sweeper = moduleRef.get(SweeperService, { strict: false });

  global.gc?.();
  const idleRss = process.memoryUsage().rss;
  const latencyMs = Number(process.env.BENCH_CLOUD_LATENCY_MS ?? 0);
  if (latencyMs > 0) {
    const res = await fetch(`http://127.0.0.1:${port}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'api-error', action: 'DescribeInstancesFullStatus', latencyMs }),
    });
    if (res.status !== 201)
      throw new Error(`latency fault refused: ${res.status} ${await res.text()}`);
    log(`every DescribeInstancesFullStatus now takes ${latencyMs} ms longer`);
  }
  await renewAll(ds);
  t = performance.now();
  const warm = await sweeper.sweep();
  log(`warm-up sweep: ${Math.round(performance.now() - t)} ms, ${JSON.stringify(warm.verdicts)}`);
  await renewAll(ds);

  global.gc?.();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 5);
  const calls = watchEcsCalls(port);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stats = await sweeper.sweep();
  const sweepMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const wire = calls.stop();
  const byAction = wire.byAction;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const cloudCalls = Object.values(byAction).reduce((a, b) => a + b, 0);

  const result = {
    hosts: stats.hosts,
    sweep_ms: Math.round(sweepMs),
    cloud_calls: cloudCalls,
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    rss_mb: Math.round(peakRss / 1024 / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);

  log(
    `sweeper says: ${JSON.stringify({ ...stats, durationMs: Math.round(stats.durationMs) })}; on the wire: ${JSON.stringify(byAction)}`,
  );
  log(
    `cloud: ${cloudCalls} calls, ${Math.round(wire.msInFlight)} ms of the sweep waiting on them (p50 ${wire.p50Ms.toFixed(1)} ms a call, at most ${wire.maxInFlight} in flight); the rest (${Math.round(sweepMs - wire.msInFlight)} ms) is database and CPU (${result.cpu_ms} ms CPU in all)`,
  );
  const mb = (b: number) => Math.round(b / 1024 / 1024);
  log(
    `rss: ${mb(idleRss)} MB idle (worker built, before any sweep), ${mb(peakRss)} MB peak in the measured sweep; heap used ${mb(process.memoryUsage().heapUsed)} MB after it`,
  );
  if (stats.cloudCalls !== cloudCalls)
    log(`the sweeper counted ${stats.cloudCalls} cloud calls, the wire saw ${cloudCalls}`);
  if (stats.hosts !== count) log(`swept ${stats.hosts} hosts, seeded ${count}`);
  if ((stats.verdicts.healthy ?? 0) !== count)
    log(`not a steady state: ${JSON.stringify(stats.verdicts)}`);
  const missed = [
    result.sweep_ms >= 5000 && `sweep_ms ${result.sweep_ms} ≥ 5000`,
    result.cloud_calls > count / 100 + 10 &&
      `cloud_calls ${result.cloud_calls} > ${count / 100 + 10}`,
    result.rss_mb >= 300 && `rss_mb ${result.rss_mb} ≥ 300`,
  ].filter(Boolean);
  log(missed.length ? `targets missed: ${missed.join('; ')}` : 'all targets met');
}

const timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? 300);
const watchdog = setTimeout(() => {
  log(`timed out after ${timeoutS} s`);
  void cleanup().finally(() => process.exit(1));
}, timeoutS * 1000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

main().then(
  () =>
    cleanup().finally(() => {
      clearTimeout(watchdog);
      process.exit(0);
    }),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    void cleanup().finally(() => process.exit(1));
  },
);
