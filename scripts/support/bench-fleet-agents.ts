/**
 * `npm run bench:fleet`, the real-agent half (issue 20 point 1): the built api, worker and ecs-sim with
 * a real agent and a simulated AvalancheGo on every instance, BENCH_AGENTS agents in all (default
 * 1,000: validators plus the standbys that let the two other zones take one zone's validators), at
 * default lease settings (renew 10 s, TTL 45 s) and real simulator timings (SIM_TIME_SCALE 1).
 *
 * 1. Setup: the validators are asked for over the REST API (so they launch in batches, as a burst
 *    does), the pools fill; done when every validator is `active`, every pool full and the
 *    simulator runs a bootstrapped node for each agent.
 * 2. Steady state, BENCH_STEADY_SECONDS (default 60): `self_fences` counts the agents' own
 *    self-fence log lines in the simulator's output (must be 0); renewals by status and the
 *    latency histogram from the API's /metrics; CPU of each process.
 * 3. One zone's power loss (`POST /_sim/faults` zone-power-loss on the zone with the most
 *    validators): from the simulator's ground truth (`GET /_sim/nodes`, sampled every 500 ms),
 *    `moved_*_s` is the time from the fault until the validator's NodeID runs bootstrapped on a
 *    Running instance in another zone; `duplicates` counts NodeIDs seen running on two instances at
 *    once (sampled from the fault until BENCH_RETURN_SECONDS after the zone's power returns).
 *    Target: every validator of the dark zone moved, p99 ≤ 60 s.
 *
 * Every wait is bounded (BENCH_SETUP_TIMEOUT_S, BENCH_MOVE_DEADLINE_S, BENCH_RETURN_SECONDS).
 */
import { loadavg } from 'node:os';
import {
  benchEnv,
  cpuMs,
  peakRssMb,
  quantile,
  round1,
  round3,
  sleep,
  spawnApp,
  type Child,
  type Cleanups,
} from './bench-procs';
import { simNodes, type SimNode } from './ground-truth';
import { waitFor } from './stack';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 1000);
const STEADY_S = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const SETUP_TIMEOUT_S = Number(process.env.BENCH_SETUP_TIMEOUT_S ?? 900);
const MOVE_DEADLINE_S = Number(process.env.BENCH_MOVE_DEADLINE_S ?? 180);
const RETURN_S = Number(process.env.BENCH_RETURN_SECONDS ?? 30);
const CREATE_CONCURRENCY = 8;
const SAMPLE_MS = 500;
const TARGET_P99_S = 60;

interface V {
  id: string;
  state: string;
  zone: string | null;
  nodeId: string | null;
}

/**
 * The most validators N agents hold, with pools (per zone) large enough that the other two zones
 * together take every validator of one zone: V + 3 × (⌈V / 6⌉ + 1) ≤ N.
 */
export function fleetShape(agents: number): { validators: number; poolPerZone: number } {
  let validators = 0;
  for (let v = 1; v + 3 * (Math.ceil(v / 6) + 1) <= agents; v++) validators = v;
  return { validators, poolPerZone: Math.ceil(validators / 6) + 1 };
}

/** Renewals the API served, by status, and their latency histogram (cumulative buckets, seconds). */
interface RenewalMetrics {
  count: Record<string, number>;
  buckets: Map<number, number>;
}

async function renewalMetrics(apiUrl: string): Promise<RenewalMetrics> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const count: Record<string, number> = {};
  const buckets = new Map<number, number>();
  const name = 'snowline_agent_lease_renewal_duration_seconds';
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const status = /status="(\d+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_count`) && status) count[status] = value;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (line.startsWith(`${name}_bucket`) && le && status === '200') {
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    }
  }
  return { count, buckets };
}

/** The histogram bucket (upper bound, ms) that holds quantile p of the renewals between a and b. */
function bucketQuantileMs(a: RenewalMetrics, b: RenewalMetrics, p: number): number | null {
  const bounds = [...b.buckets.keys()].sort((x, y) => x - y);
  const total = (b.buckets.get(Infinity) ?? 0) - (a.buckets.get(Infinity) ?? 0);
  if (!total) return null;
  for (const bound of bounds) {
    const n = (b.buckets.get(bound) ?? 0) - (a.buckets.get(bound) ?? 0);
    if (n >= p * total) return bound === Infinity ? null : bound * 1000;
  }
  return null;
}

/** CPU (ms) of each process now. */
function cpuOf(procs: Child[]): Record<string, number> {
  return Object.fromEntries(procs.map((c) => [c.name, cpuMs(c.child.pid) ?? NaN]));
}

/** Cores each process used between two readings `ms` apart. */
function coresBetween(
  a: Record<string, number>,
  b: Record<string, number>,
  ms: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(a).map((k) => [k.replace('-', '_'), round3((b[k]! - a[k]!) / ms)]),
  );
}

export async function agentsPart(ctx: {
  cleanups: Cleanups;
  log: (msg: string) => void;
}): Promise<Record<string, unknown>> {
  const { cleanups } = ctx;
  const log = (msg: string) => ctx.log(`agents: ${msg}`);
  if (!Number.isInteger(AGENTS) || AGENTS < 10) throw new Error('BENCH_AGENTS: an integer ≥ 10');
  const { validators: VALIDATORS, poolPerZone: POOL } = fleetShape(AGENTS);
  const want = VALIDATORS + 3 * POOL;
  const b = await benchEnv('bench_fleet_agents', cleanups, {
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    SIM_TIME_SCALE: '1',
    SIM_BOOTSTRAP_SECONDS: '3',
    SIM_RATE_LIMITS: process.env.BENCH_SIM_RATE_LIMITS ?? 'false',
    LEASE_RENEW_SECONDS: '10',
    LEASE_TTL_SECONDS: '45',
    STANDBY_POOL: `fuji=${POOL}`,
    // The burst of creations is the bench's own setup, not what the API's rate limit is for.
    RATE_LIMIT_RPS: '0',
  });
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${b.apiUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${b.adminKey}`,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });

  // Self-fences, from the agents' own log lines in the simulator's output (one per fence).
  const fences: { at: number; zone: string | null }[] = [];
  const sim = spawnApp('ecs-sim', b.env, cleanups, {
    onLine: (line) => {
      if (!line.includes('(self-fence)')) return;
      let zone: string | null = null;
      try {
        zone = (JSON.parse(line) as { zoneId?: string }).zoneId ?? null;
      } catch {
        /* counted all the same */
      }
      fences.push({ at: Date.now(), zone });
    },
  });
  await waitFor('the simulator', async () => (await fetch(`${b.simUrl}/_sim/healthz`)).ok, 30_000);
  const apiProc = spawnApp('api', b.env, cleanups);
  await waitFor('the API', async () => (await fetch(`${b.apiUrl}/healthz`)).ok, 60_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\n${apiProc.tail.join('\n')}`);
    },
  );
  const worker = spawnApp('worker', b.env, cleanups);
  const procs = [apiProc, worker, sim];
  for (const c of procs)
    c.child.once('exit', (code, signal) => {
      if (!c.stopping)
        log(`${c.name} exited (${code ?? signal}) during the run:\n${c.tail.join('\n')}`);
    });

  const listValidators = async (): Promise<V[]> => {
    const out: V[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const res = await api(
        `/v1/validators?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (!res.ok) throw new Error(`GET /v1/validators: ${res.status}`);
      const page = (await res.json()) as { items: V[]; nextCursor: string | null };
      out.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return out;
  };
  const zones = async () =>
    (
      (await (await api('/v1/zones')).json()) as {
        items: { id: string; status: string; standbys: number | null }[];
      }
    ).items;

  // 1. Setup.
  log(`${VALIDATORS} validators and ${POOL} standbys per zone: ${want} agents`);
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < VALIDATORS) {
        const i = next++;
        const res = await api('/v1/validators', {
          method: 'POST',
          json: { network: 'fuji', name: `fleet-${i}` },
        });
        if (res.status !== 202) throw new Error(`create: ${res.status} ${await res.text()}`);
      }
    }),
  );
  log(`${VALIDATORS} validators asked for in ${Math.round((Date.now() - t0) / 1000)} s`);
  // Bounded; a validator that fails ends the run at once (waitFor would retry past the throw).
  let lastProgress = 0;
  for (;;) {
    const [vs, zs, nodes] = await Promise.all([listValidators(), zones(), simNodes(b.simUrl)]);
    const failed = vs.find((v) => v.state === 'failed');
    if (failed) throw new Error(`a validator failed: ${JSON.stringify(failed)}`);
    const active = vs.filter((v) => v.state === 'active').length;
    const warm = nodes.filter((n) => n.running && n.bootstrapped).length;
    if (active === VALIDATORS && zs.every((z) => (z.standbys ?? 0) >= POOL) && warm >= want) break;
    const progress = `${active}/${VALIDATORS} active, standbys ${zs.map((z) => z.standbys ?? 0).join('/')}, ${warm}/${want} nodes bootstrapped`;
    if (Date.now() - t0 > SETUP_TIMEOUT_S * 1000)
      throw new Error(`setup not done after ${SETUP_TIMEOUT_S} s: ${progress}`);
    if (Date.now() - lastProgress > 15_000) {
      lastProgress = Date.now();
      log(
        `setup ${Math.round((Date.now() - t0) / 1000)} s: ${progress}, load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
    await sleep(2_000);
  }
  const setupS = (Date.now() - t0) / 1000;
  const setupFences = fences.length;
  log(`steady after ${Math.round(setupS)} s (${setupFences} self-fences during setup)`);

  // 2. Steady state.
  const m0 = await renewalMetrics(b.apiUrl);
  const c0 = cpuOf(procs);
  const s0 = Date.now();
  const load0 = loadavg()[0]!;
  await sleep(STEADY_S * 1000);
  const steadyMs = Date.now() - s0;
  const c1 = cpuOf(procs);
  const m1 = await renewalMetrics(b.apiUrl);
  const steadyFences = fences.filter((f) => f.at >= s0).length;
  const renewalsByStatus = Object.fromEntries(
    Object.keys(m1.count).map((k) => [k, (m1.count[k] ?? 0) - (m0.count[k] ?? 0)]),
  );
  const renewals200 = renewalsByStatus['200'] ?? 0;
  const afterSteady = await listValidators();
  const steadyNotActive = afterSteady.filter((v) => v.state !== 'active').length;
  log(
    `steady ${Math.round(steadyMs / 1000)} s: ${steadyFences} self-fences, ${renewals200} renewals, ${steadyNotActive} not active`,
  );

  // 3. One zone's power loss.
  const before = await simNodes(b.simUrl);
  const validatorIds = new Set(afterSteady.map((v) => v.nodeId).filter((x): x is string => !!x));
  const perZone = new Map<string, string[]>();
  for (const n of before)
    if (n.running && n.nodeId && validatorIds.has(n.nodeId))
      perZone.set(n.zone, [...(perZone.get(n.zone) ?? []), n.nodeId]);
  const [dark, darkNodeIds] = [...perZone.entries()].sort((x, y) => y[1].length - x[1].length)[0]!;
  const affected = new Set(darkNodeIds);
  const duplicated = new Set<string>();
  let samples = 0;
  const sample = async (): Promise<SimNode[] | null> => {
    const nodes = await simNodes(b.simUrl).catch(() => null);
    if (!nodes) return null;
    samples++;
    const running = new Map<string, number>();
    for (const n of nodes)
      if (n.running && n.nodeId) running.set(n.nodeId, (running.get(n.nodeId) ?? 0) + 1);
    for (const [id, count] of running) if (count > 1) duplicated.add(id);
    return nodes;
  };

  const c2 = cpuOf(procs);
  const f0 = Date.now();
  const res = await fetch(`${b.simUrl}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'zone-power-loss', zone: dark }),
  });
  if (res.status !== 201) throw new Error(`fault: ${res.status} ${await res.text()}`);
  const fault = (await res.json()) as { id: string };
  log(`zone-power-loss in ${dark}: ${affected.size} validators`);
  const movedAt = new Map<string, number>();
  let detectS: number | null = null;
  let lastLog = Date.now();
  while (Date.now() - f0 < MOVE_DEADLINE_S * 1000 && movedAt.size < affected.size) {
    const at = Date.now();
    const nodes = await sample();
    for (const n of nodes ?? []) {
      if (
        n.nodeId &&
        affected.has(n.nodeId) &&
        !movedAt.has(n.nodeId) &&
        n.zone !== dark &&
        n.running &&
        n.bootstrapped &&
        n.status === 'Running'
      )
        movedAt.set(n.nodeId, (at - f0) / 1000);
    }
    if (detectS === null) {
      const z = (await zones().catch(() => [])).find((x) => x.id === dark);
      if (z && z.status !== 'healthy') detectS = (Date.now() - f0) / 1000;
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(`${Math.round((Date.now() - f0) / 1000)} s: ${movedAt.size}/${affected.size} moved`);
    }
    await sleep(Math.max(0, at + SAMPLE_MS - Date.now()));
  }
  const moveMs = Date.now() - f0;
  const c3 = cpuOf(procs);
  const moveFences = fences.filter((f) => f.at >= f0).length;
  const times = [...movedAt.values()].sort((x, y) => x - y);
  const final = await listValidators();
  const affectedActive = final.filter(
    (v) => v.nodeId && affected.has(v.nodeId) && v.state === 'active' && v.zone !== dark,
  ).length;
  log(`moved ${movedAt.size}/${affected.size} in ${Math.round(moveMs / 1000)} s; power back`);

  // The zone returns: its old hosts must stay fenced (no NodeID twice), sampled for RETURN_S.
  await fetch(`${b.simUrl}/_sim/faults/${fault.id}`, { method: 'DELETE' });
  const r0 = Date.now();
  while (Date.now() - r0 < RETURN_S * 1000) {
    const at = Date.now();
    await sample();
    await sleep(Math.max(0, at + SAMPLE_MS - Date.now()));
  }

  const result = {
    agents: before.filter((n) => n.running && n.bootstrapped).length,
    agents_asked: want,
    validators: VALIDATORS,
    standbys_per_zone: POOL,
    setup_s: round1(setupS),
    self_fences_setup: setupFences,
    steady_s: round1(steadyMs / 1000),
    self_fences: steadyFences,
    steady_not_active: steadyNotActive,
    renewals_per_s: round1((renewals200 * 1000) / steadyMs),
    renewals_by_status: renewalsByStatus,
    renewal_p50_ms_le: bucketQuantileMs(m0, m1, 0.5),
    renewal_p99_ms_le: bucketQuantileMs(m0, m1, 0.99),
    steady_cores: coresBetween(c0, c1, steadyMs),
    steady_load_1m: round1((load0 + loadavg()[0]!) / 2),
    dark_zone: dark,
    zone_validators: affected.size,
    detect_s: detectS === null ? null : round1(detectS),
    moved: movedAt.size,
    moved_p50_s: times.length ? round1(quantile(times, 0.5)) : null,
    moved_p99_s: times.length ? round1(quantile(times, 0.99)) : null,
    moved_max_s: times.length ? round1(times.at(-1)!) : null,
    moved_active_by_control_plane: affectedActive,
    self_fences_during_move: moveFences,
    move_cores: coresBetween(c2, c3, moveMs),
    duplicates: duplicated.size,
    samples,
    target_met:
      movedAt.size === affected.size &&
      (times.length ? quantile(times, 0.99) : Infinity) <= TARGET_P99_S &&
      duplicated.size === 0 &&
      steadyFences === 0,
    rss_mb: Object.fromEntries(
      procs.map((c) => [c.name.replace('-', '_'), peakRssMb(c.child.pid)]),
    ),
  };
  return result;
}
