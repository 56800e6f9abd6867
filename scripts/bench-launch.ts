/**
 * `npm run bench:launch` (issue 20 point 4): BENCH_VALIDATORS (default 1,000) validators asked for at
 * once over the REST API, against the built api, worker and ecs-sim with the simulator's rate limits
 * on (SIM_RATE_LIMITS=true, as ECS throttles per account) and no standby pool (every instance is a
 * launch). Done when every validator is `active` (or BENCH_TIMEOUT_S, default 1,200, has passed).
 * BENCH_IDENTITIES: `generated` (default; the worker makes each staking identity, ~40 ms of CPU on
 * a low-priority thread, so on a busy machine identities trickle in) or `imported` (made by this
 * process before the clock starts and sent with each request: the launch path alone).
 * Prints one JSON line:
 * `{ validators, run_instances_calls, active, instances, duplicate_instances, duplicate_node_ids,
 *    seconds, … }` — the calls counted by the simulator (RunInstances answered 200), instances and
 * nodes from its ground truth (`GET /_sim/nodes`): `duplicate_instances` counts instances beyond one
 * per validator and instances hosting a second validator's NodeID; `duplicate_node_ids` counts
 * NodeIDs ever seen running on two instances at once (sampled every 2 s). Target: ≤ 20 calls, all
 * active, 0 duplicates.
 */
import { loadavg } from 'node:os';
import { generateIdentity } from '@snowline/avalanche';
import {
  benchEnv,
  Cleanups,
  cpuMs,
  peakRssMb,
  round1,
  round3,
  sleep,
  spawnApp,
} from './support/bench-procs';
import { simNodes } from './support/ground-truth';
import { waitFor } from './support/stack';

const VALIDATORS = Number(process.env.BENCH_VALIDATORS ?? 1000);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 1200);
const IDENTITIES = process.env.BENCH_IDENTITIES ?? 'generated';
if (IDENTITIES !== 'generated' && IDENTITIES !== 'imported')
  throw new Error(`BENCH_IDENTITIES: generated or imported, got ${IDENTITIES}`);
const CREATE_CONCURRENCY = 8;
const TARGET_CALLS = 20;

const log = (msg: string): void => void process.stderr.write(`bench-launch: ${msg}\n`);
const cleanups = new Cleanups(log);

async function main(): Promise<Record<string, unknown>> {
  if (!Number.isInteger(VALIDATORS) || VALIDATORS < 1)
    throw new Error('BENCH_VALIDATORS: a positive integer');
  const b = await benchEnv('bench_launch', cleanups, {
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    SIM_RATE_LIMITS: 'true',
    SIM_TIME_SCALE: '1',
    SIM_BOOTSTRAP_SECONDS: '3',
    STANDBY_POOL: 'fuji=0',
    // The burst of creations is the bench itself, not what the API's rate limit is for.
    RATE_LIMIT_RPS: '0',
  });
  const sim = spawnApp('ecs-sim', b.env, cleanups);
  await waitFor('the simulator', async () => (await fetch(`${b.simUrl}/_sim/healthz`)).ok, 30_000);
  const api = spawnApp('api', b.env, cleanups);
  await waitFor('the API', async () => (await fetch(`${b.apiUrl}/healthz`)).ok, 60_000);
  const worker = spawnApp('worker', b.env, cleanups);
  const procs = [api, worker, sim];
  for (const c of procs)
    c.child.once('exit', (code, signal) => {
      if (!c.stopping)
        log(`${c.name} exited (${code ?? signal}) during the run:\n${c.tail.join('\n')}`);
    });
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${b.apiUrl}${path}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        authorization: `Bearer ${b.adminKey}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const simState = async () =>
    (await (await fetch(`${b.simUrl}/_sim/state`)).json()) as {
      instances: number;
      calls: Record<string, number>;
    };
  const states = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const res = await call(
        `/v1/validators?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (!res.ok) throw new Error(`GET /v1/validators: ${res.status}`);
      const page = (await res.json()) as {
        items: { state: string }[];
        nextCursor: string | null;
      };
      for (const v of page.items) out[v.state] = (out[v.state] ?? 0) + 1;
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return out;
  };

  const imports: { stakerCrt: string; stakerKey: string; signerKey: string }[] = [];
  if (IDENTITIES === 'imported') {
    const g0 = Date.now();
    for (let i = 0; i < VALIDATORS; i++) {
      const id = await generateIdentity();
      imports.push({
        stakerCrt: id.stakerCrt,
        stakerKey: id.stakerKey,
        signerKey: id.signerKey.toString('base64'),
      });
    }
    log(`${VALIDATORS} identities made in ${round1((Date.now() - g0) / 1000)} s (not timed)`);
  }

  const calls0 = (await simState()).calls;
  const cpu0 = procs.map((c) => cpuMs(c.child.pid) ?? NaN);
  const t0 = Date.now();
  let next = 0;
  let retries = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < VALIDATORS) {
        const i = next++;
        // With an Idempotency-Key a request lost to a dropped connection is safe to send again.
        for (let attempt = 1; ; attempt++) {
          const res = await call('/v1/validators', {
            method: 'POST',
            headers: { 'idempotency-key': `bench-launch-${i}` },
            json: {
              network: 'fuji',
              name: `launch-${i}`,
              ...(imports[i] ? { identity: imports[i] } : {}),
            },
          }).catch((err: Error) => err);
          if (!(res instanceof Error) && res.status === 202) break;
          const why = res instanceof Error ? res.message : `${res.status} ${await res.text()}`;
          if (attempt === 5 || (!(res instanceof Error) && res.status < 500))
            throw new Error(`create launch-${i}: ${why}`);
          retries++;
          await sleep(500 * attempt);
        }
      }
    }),
  );
  const askedS = (Date.now() - t0) / 1000;
  log(`${VALIDATORS} validators asked for in ${round1(askedS)} s`);

  // Bounded: until every validator is active, one fails, or the timeout.
  const duplicated = new Set<string>();
  let byState: Record<string, number> = {};
  let lastLog = 0;
  let done = false;
  while (Date.now() - t0 < TIMEOUT_S * 1000) {
    const nodes = await simNodes(b.simUrl).catch(() => []);
    const seen = new Map<string, number>();
    for (const n of nodes)
      if (n.running && n.nodeId) seen.set(n.nodeId, (seen.get(n.nodeId) ?? 0) + 1);
    for (const [id, count] of seen) if (count > 1) duplicated.add(id);
    byState = await states();
    if (byState.failed) throw new Error(`${byState.failed} validators failed`);
    if ((byState.active ?? 0) === VALIDATORS) {
      done = true;
      break;
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      const s = await simState();
      log(
        `${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify(byState)}, ${s.instances} instances, ${(s.calls.RunInstances ?? 0) - (calls0.RunInstances ?? 0)} RunInstances, load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
    await sleep(2_000);
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu1 = procs.map((c) => cpuMs(c.child.pid) ?? NaN);
  const s = await simState();
  const nodes = await simNodes(b.simUrl);
  const running = nodes.filter((n) => n.running && n.nodeId);
  const nodeIds = new Set(running.map((n) => n.nodeId));
  const callsBy = Object.fromEntries(
    Object.entries(s.calls)
      .map(([k, v]) => [k, v - (calls0[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
  const runInstances = callsBy.RunInstances ?? 0;
  const duplicateInstances =
    Math.max(0, s.instances - VALIDATORS) + (running.length - nodeIds.size);
  return {
    validators: VALIDATORS,
    identities: IDENTITIES,
    run_instances_calls: runInstances,
    active: byState.active ?? 0,
    instances: s.instances,
    duplicate_instances: duplicateInstances,
    duplicate_node_ids: duplicated.size,
    seconds: round1(seconds),
    asked_in_s: round1(askedS),
    create_retries: retries,
    states: byState,
    calls: callsBy,
    target_met:
      done && runInstances <= TARGET_CALLS && duplicateInstances === 0 && duplicated.size === 0,
    cores: Object.fromEntries(
      procs.map((c, i) => [
        c.name.replace('-', '_'),
        round3((cpu1[i]! - cpu0[i]!) / 1000 / seconds),
      ]),
    ),
    rss_mb: Object.fromEntries(
      procs.map((c) => [c.name.replace('-', '_'), peakRssMb(c.child.pid)]),
    ),
    machine: { load_1m: round1(loadavg()[0]!) },
  };
}

const watchdog = setTimeout(
  () => {
    log(`timed out after ${TIMEOUT_S + 120} s`);
    void cleanups.run().finally(() => process.exit(1));
  },
  (TIMEOUT_S + 120) * 1000,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanups.run().finally(() => process.exit(130)));

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    void cleanups.run().finally(() => {
      clearTimeout(watchdog);
      process.exit(0);
    });
  },
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    void cleanups.run().finally(() => process.exit(1));
  },
);
