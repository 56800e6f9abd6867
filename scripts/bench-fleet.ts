/**
 * `npm run bench:fleet` (issue 20): the whole control plane at fleet size, in two parts, one JSON line
 * at the end (`{ part, machine, capacity: {…}, agents: {…} }`). BENCH_PART=capacity|agents|both
 * (default both) picks them; each part runs its own stack (own database, Redis prefix, data dir) and
 * removes it before the next.
 *
 * - *agents* (scripts/support/bench-fleet-agents.ts): the simulator with a real agent on every
 *   instance, BENCH_AGENTS (default 1,000) of them, steady state, then one zone's power loss; figures
 *   from the simulator's ground truth. Method and fields: that file's header.
 * - *capacity* (below): the built api, worker and ecs-sim as their own processes on loopback, with
 *   BENCH_HOSTS (default 10,000) hosts in the database, and a lean load generator in this process
 *   that holds one Ed25519 host key per host and renews each host's lease every LEASE_RENEW_SECONDS
 *   (10 s, the default: 1,000 renewals/s at 10,000 hosts) for BENCH_SECONDS (default 60), while the
 *   worker's sweeper runs on its own interval. Its fields:
 *   `{ hosts, active, standbys, renewals_per_s, renewal_p50_ms, renewal_p99_ms, errors, …,
 *      api_cpu_ms_per_renewal, pg_cpu_ms_per_renewal, sweep_ms, rss_mb: { api, worker, ecs_sim, … } }`.
 *
 * - The fleet: BENCH_HOSTS hosts, of which the default standby pool (STANDBY_POOL fuji=1: one per
 *   zone, BENCH_STANDBYS_PER_ZONE overrides it and the worker's pool alike, so it neither refills nor
 *   trims) are warm standbys and the rest hold active validators (generation 1, keys fetched). Rows are
 *   written with SQL before the api and worker start: protocol 2, the host's public signing key bound,
 *   registered, instance id set. Staking identities' sealed columns are dummy bytes (no keys are
 *   fetched in this run).
 * - The cloud: every host's instance really runs in the simulator (launched 100 per RunInstances), with
 *   UserData that is not Snowline's, so the simulator runs no agent or node for it: the sweep's
 *   DescribeInstancesFullStatus finds every instance Running, as in production, and this process is
 *   the only agent.
 * - The load: each host has one renewal in flight at most, as a real agent (the next one is due
 *   LEASE_RENEW_SECONDS after the previous one started, or as soon as it is answered if that is later),
 *   hosts spread evenly over the interval, signed as the agent signs (`requestSigner`, `signRequest`
 *   with each key parsed once). node:http with a keep-alive Agent of BENCH_SOCKETS (default 64)
 *   sockets. Latency is from when the request was issued (waiting for a free socket included) to the
 *   end of the answer; latency, errors and `renewals_per_s` are over the answers that arrive inside the
 *   window (under overload many were asked before it). A renewal is never aborted: the agent gives up after 5 s, but a server does the
 *   work of an abandoned request anyway, so waiting shows the server's real throughput and latency
 *   under overload; answers after 5 s are counted (`late_over_5s`; the agent would have lost them) and
 *   `renewals_in_time_per_s` leaves them out. `unanswered`: asked inside the window, no answer 7 s after it.
 *   `issue_lag_p99_ms`: how late renewals went out against their schedule (this process's timer, or a
 *   previous renewal of that host still unanswered). One warm-up interval (every host renews once) is
 *   not measured.
 * - CPU: /proc/<pid>/stat (utime + stime) of the api before and after the measured window; Postgres:
 *   the same, summed over the backends of the bench database (pg_stat_activity, sampled every second,
 *   this process's own sampling connection left out; a backend that started inside the window counts
 *   from 0). Postgres' shared processes (WAL writer, checkpointer, background writer) are not counted.
 * - Growth: `pg_database_size` and each table's `pg_total_relation_size` (heap, indexes, TOAST) and
 *   the events' count at the start and end of the measured window, extrapolated to an hour
 *   (`db_growth_mb_per_hour`, `db_growth_by_table_mb_per_hour` for tables that grew, `events_per_hour`).
 *   A short window overstates it: renewals' updates leave dead row versions that autovacuum later
 *   frees for reuse, so the hosts table levels off; events are what retention bounds.
 * - sweep_ms: the sweeper's own `durationMs` of every sweep it recorded (`control_loops`) during the
 *   window: median (`sweep_ms`) and max (`sweep_ms_max`). rss_mb: VmHWM (peak RSS) of each process from
 *   /proc at the end.
 *
 * Everything is bounded: BENCH_TIMEOUT_S (default 600 for capacity, 1,500 for agents, 2,100 for both)
 * ends the run; children are killed on exit.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import type { DataSource } from 'typeorm';
import { AGENT_PATHS, requestSigner } from '@snowline/agent';
import { openDatabase } from '@snowline/persistence';
import { agentsPart } from './support/bench-fleet-agents';
import {
  benchEnv,
  BENCH_ZONES,
  Cleanups,
  cpuMs,
  peakRssMb,
  quantile,
  round1,
  round3,
  sleep,
  spawnApp,
  type Child,
} from './support/bench-procs';
import { launchForeignFleet } from './support/sim-fleet';
import { waitFor } from './support/stack';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 64);
const STANDBYS_PER_ZONE = Number(process.env.BENCH_STANDBYS_PER_ZONE ?? 1);
const RENEW_S = Number(process.env.LEASE_RENEW_SECONDS ?? 10);
/** capacity (the load generator), agents (real agents and a zone's power loss) or both. */
const PART = process.env.BENCH_PART ?? 'both';
if (!['capacity', 'agents', 'both'].includes(PART))
  throw new Error(`BENCH_PART: capacity, agents or both, got ${PART}`);
const TIMEOUT_S = Number(
  process.env.BENCH_TIMEOUT_S ?? { capacity: 600, agents: 1_500, both: 2_100 }[PART],
);
const REQUEST_TIMEOUT_MS = 5_000;

const KEY_ID = 'bench-fleet-key';
const SECRET = 'bench-fleet-secret';
const INSTANCE_TYPE = 'ecs.g7.2xlarge';

const log = (msg: string): void => void process.stderr.write(`bench-fleet: ${msg}\n`);

/** Every part registers its processes, database and keys here; each part's are gone before the next. */
const cleanups = new Cleanups(log);

interface DbSize {
  bytes: number;
  tables: Record<string, number>;
  events: number;
}

/** The bench database's size, each table's (with indexes and TOAST) and how many events it holds. */
async function dbSize(ds: DataSource): Promise<DbSize> {
  const [db] = (await ds.query(
    `SELECT pg_database_size(current_database())::float8 AS bytes,
            (SELECT count(*) FROM events)::int AS events`,
  )) as { bytes: number; events: number }[];
  const tables = (await ds.query(
    `SELECT relname AS name, pg_total_relation_size(relid)::float8 AS bytes FROM pg_stat_user_tables`,
  )) as { name: string; bytes: number }[];
  return {
    bytes: db!.bytes,
    events: db!.events,
    tables: Object.fromEntries(tables.map((t) => [t.name, t.bytes])),
  };
}

function spawnChild(name: string, env: Record<string, string>, keepStdout = true): Child {
  // BENCH_PROFILE_DIR: a V8 CPU profile of the api (written when it exits) to see where a renewal goes.
  const nodeArgs =
    name === 'api' && process.env.BENCH_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
  return spawnApp(name, env, cleanups, { keepStdout, nodeArgs });
}

/** The fleet: real simulator instances for the sweep's Describe, no agents (scripts/support/sim-fleet). */
const launch = (port: number, count: number) =>
  launchForeignFleet(port, count, {
    keyId: KEY_ID,
    secret: SECRET,
    name: 'bench-fleet',
    timeoutMs: 120_000,
  });

interface FleetHost {
  id: string;
  /** signRequest with this host's key, parsed once. */
  sign: ReturnType<typeof requestSigner>;
  /** Active validators renew at generation 1 with a running node; standbys at null. */
  generation: number | null;
  nodeId: string;
}

/**
 * One project; per active host a staking identity, an active validator (generation 1) and its
 * assigned host; the standbys; every host protocol 2 with its signing key bound.
 */
async function seed(ds: DataSource, ids: string[], zones: string[]): Promise<FleetHost[]> {
  const standbys = Math.min(ids.length, STANDBYS_PER_ZONE * BENCH_ZONES.length);
  // Standbys: the first instance of each zone, in turn, until each zone has its share.
  const standbyIdx = new Set<number>();
  const perZone = new Map<string, number>();
  for (let i = 0; i < ids.length && standbyIdx.size < standbys; i++) {
    const n = perZone.get(zones[i]!) ?? 0;
    if (n < STANDBYS_PER_ZONE) {
      standbyIdx.add(i);
      perZone.set(zones[i]!, n + 1);
    }
  }
  const t = performance.now();
  const fleet: FleetHost[] = [];
  const spkis: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    fleet.push({
      id: '',
      sign: requestSigner({
        version: 1,
        signingKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        // Never used: no keys are fetched, nothing is sealed to this host in the run.
        encryptionKey: 'unused',
        boundHostId: null,
      }),
      generation: standbyIdx.has(i) ? null : 1,
      nodeId: standbyIdx.has(i) ? `NodeID-standby${i}` : `NodeID-bench${i}`,
    });
    spkis.push(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
  }
  log(`${ids.length} Ed25519 host keys made in ${Math.round(performance.now() - t)} ms`);
  const roles = ids.map((_, i) => (standbyIdx.has(i) ? 'standby' : 'assigned'));
  const projectId = (
    (await ds.query(`INSERT INTO projects (name) VALUES ('bench-fleet') RETURNING id`)) as {
      id: string;
    }[]
  )[0]!.id;
  const hostIds = await ds.transaction(async (tx) => {
    await tx.query(
      `CREATE TEMP TABLE bench_src ON COMMIT DROP AS
         SELECT i, iid, zone, role, spki, gen_random_uuid() AS sid, gen_random_uuid() AS vid,
                gen_random_uuid() AS hid
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                AS u(iid, zone, role, spki, i)`,
      [ids, zones, roles, spkis],
    );
    await tx.query(
      `INSERT INTO staking_identities (id, project_id, node_id, bls_public_key, proof_of_possession,
                                       wrapped_data_key, sealed_keys, master_key_id)
         SELECT sid, $1, 'NodeID-bench' || (i - 1), 'bls-' || i, 'pop-' || i, '\\x00', '\\x00', 'bench'
           FROM bench_src WHERE role = 'assigned'`,
      [projectId],
    );
    await tx.query(
      `INSERT INTO validators (id, project_id, name, network, instance_type, zones, state, generation,
                               identity_id, node_id, host_id, zone, instance_id, active_at)
         SELECT vid, $1, 'bench-' || i, 'fuji', $2, ARRAY[zone], 'active', 1,
                sid, 'NodeID-bench' || (i - 1), hid, zone, iid, now() - interval '1 hour'
           FROM bench_src WHERE role = 'assigned'`,
      [projectId, INSTANCE_TYPE],
    );
    await tx.query(
      `INSERT INTO hosts (id, project_id, validator_id, role, zone, instance_type, client_token,
                          instance_id, generation, cloud_status, bootstrap_token_hash, agent_protocol,
                          agent_signing_key, agent_key_bound_at, registered_at,
                          lease_expires_at, last_report, last_report_at, keys_fetched_generation,
                          network, health, health_reason, health_since, cloud_health, cloud_observed_at,
                          created_at)
         SELECT hid,
                CASE WHEN role = 'assigned' THEN $1::uuid END,
                CASE WHEN role = 'assigned' THEN vid END,
                role, zone, $2, 'bench-fleet-' || i, iid,
                CASE WHEN role = 'assigned' THEN 1 END,
                'Running', encode(sha256(('bench-' || hid)::bytea), 'hex'), 2,
                spki, now() - interval '1 hour', now() - interval '1 hour',
                now() + interval '10 minutes',
                jsonb_build_object('running', true,
                                   'nodeId', CASE WHEN role = 'assigned' THEN 'NodeID-bench' ELSE 'NodeID-standby' END || (i - 1),
                                   'healthy', true, 'bootstrapped', true, 'observedAt', now()),
                now(), CASE WHEN role = 'assigned' THEN 1 END,
                'fuji', 'healthy', 'lease fresh, instance running', now() - interval '1 hour',
                'OK', now(), now() - interval '2 hours'
           FROM bench_src`,
      [projectId, INSTANCE_TYPE],
    );
    await tx.query(
      `INSERT INTO zones (id, status, placement_allowed, hosts, unhealthy)
         SELECT zone, 'healthy', true, count(*), 0 FROM bench_src GROUP BY zone
         ON CONFLICT (id) DO NOTHING`,
    );
    return (
      (await tx.query(`SELECT hid FROM bench_src ORDER BY i`)) as {
        hid: string;
      }[]
    ).map((r) => r.hid);
  });
  await ds.query('ANALYZE');
  hostIds.forEach((id, i) => (fleet[i]!.id = id));
  return fleet;
}

/** Postgres CPU of one database's backends, sampled: each backend from its first sight (or 0). */
function pgCpuSampler(ds: DataSource, dbName: string) {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let ownPid = 0;
  let t0 = new Date();
  let stopped = false;
  let error: string | null = null;
  const sample = async (fromZeroIfAfter: Date | null) => {
    const rows = (await ds.query(
      `SELECT pid, backend_start FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [dbName],
    )) as { pid: number; backend_start: Date }[];
    let seen = 0;
    for (const r of rows) {
      const cpu = cpuMs(r.pid);
      if (cpu === null || r.pid === ownPid) continue;
      seen++;
      if (!first.has(r.pid))
        first.set(r.pid, fromZeroIfAfter && r.backend_start > fromZeroIfAfter ? 0 : cpu);
      last.set(r.pid, cpu);
    }
    if (rows.length && !seen) error = 'the backends are not readable in /proc (another machine?)';
  };
  let loop: Promise<void> = Promise.resolve();
  return {
    async start() {
      ownPid = ((await ds.query(`SELECT pg_backend_pid() AS pid`)) as { pid: number }[])[0]!.pid;
      t0 = new Date();
      await sample(null);
      loop = (async () => {
        while (!stopped) {
          await sleep(1000);
          if (!stopped) await sample(t0).catch(() => undefined);
        }
      })();
    },
    async stop(): Promise<{ ms: number | null; backends: number; error: string | null }> {
      stopped = true;
      await loop;
      await sample(t0);
      let ms = 0;
      for (const [pid, a] of first) ms += (last.get(pid) ?? a) - a;
      return { ms: error ? null : ms, backends: first.size, error };
    },
  };
}

/** The renewals: each host at most one in flight, due every RENEW_S, spread evenly. */
async function renewals(
  apiUrl: string,
  fleet: FleetHost[],
  warmupS: number,
  measureS: number,
  window: { onStart: () => void; onEnd: () => void },
) {
  const url = new URL(AGENT_PATHS.lease, apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: SOCKETS });
  const n = fleet.length;
  const intervalMs = RENEW_S * 1000;
  const start = performance.now();
  const measureFrom = start + warmupS * 1000;
  const measureTo = measureFrom + measureS * 1000;
  // Per host: when its next renewal is due, and whether one is in flight.
  const due = new Float64Array(n);
  const busy = new Uint8Array(n);
  for (let i = 0; i < n; i++) due[i] = start + (i * intervalMs) / n;
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let late = 0;
  let answeredInWindow = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const cpu0 = process.cpuUsage();
  let issuedInWindow = 0;
  let started = false;
  let closed = false;

  const issue = (i: number, now: number) => {
    const h = fleet[i]!;
    busy[i] = 1;
    const measured = now >= measureFrom && now < measureTo;
    if (measured) {
      issuedInWindow++;
      lags.push(now - due[i]!);
    }
    due[i]! += intervalMs;
    const body = JSON.stringify({
      hostId: h.id,
      generation: h.generation,
      node: {
        running: true,
        nodeId: h.nodeId,
        healthy: true,
        bootstrapped: true,
        observedAt: new Date().toISOString(),
      },
    });
    const authorization = h.sign({
      method: 'POST',
      path: AGENT_PATHS.lease,
      hostId: h.id,
      body,
    });
    const sent = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (status: string) => {
      if (done) return;
      done = true;
      inFlight--;
      busy[i] = 0;
      const at = performance.now();
      if (status === '200' && measured && !closed) ok++;
      // Throughput and latency: every answer inside the window, whenever it was asked (under
      // overload, a renewal asked inside the window may be answered only after it).
      if (at < measureFrom || at >= measureTo) return;
      if (status === '200') {
        answeredInWindow++;
        const ms = at - sent;
        latencies.push(ms);
        // The agent would have given up (and its renewal been lost); the server did the work anyway.
        if (ms > REQUEST_TIMEOUT_MS) late++;
      } else {
        errors++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => finish(String(res.statusCode)));
        res.on('error', () => finish('response-error'));
      },
    );
    req.on('error', (err) => finish((err as NodeJS.ErrnoException).code ?? 'socket-error'));
    req.end(body);
  };

  // One pass every 2 ms over the hosts in due order (hosts are spread evenly: a cursor suffices).
  let cursor = 0;
  const pending: number[] = [];
  const queued = new Uint8Array(n);
  while (performance.now() < measureTo) {
    const now = performance.now();
    if (!started && now >= measureFrom) {
      started = true;
      window.onStart();
    }
    // Hosts whose renewal came due while the previous one was in flight go as soon as it returns.
    for (let k = pending.length - 1; k >= 0; k--) {
      const i = pending[k]!;
      if (!busy[i]) {
        pending.splice(k, 1);
        queued[i] = 0;
        issue(i, now);
      }
    }
    for (let steps = 0; steps < n && due[cursor]! <= now; steps++) {
      if (busy[cursor]) {
        if (!queued[cursor]) {
          queued[cursor] = 1;
          pending.push(cursor);
        }
        due[cursor]! += intervalMs; // the agent renews right after the late answer, then on time
      } else issue(cursor, now);
      cursor = (cursor + 1) % n;
    }
    await sleep(2);
  }
  window.onEnd();
  const cpu = process.cpuUsage(cpu0);
  // What is in flight now was issued inside the window: its answer still counts, for a while.
  await waitFor(
    'the last renewals',
    () => Promise.resolve(inFlight === 0),
    REQUEST_TIMEOUT_MS + 2_000,
    20,
  ).catch(() => undefined);
  closed = true;
  const unanswered = inFlight;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    ok,
    errors,
    late,
    unanswered,
    answeredInWindow,
    statuses,
    issued: issuedInWindow,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    lagP99: quantile(lags, 0.99),
    maxInFlight,
    loadgenCpuMs: (cpu.user + cpu.system) / 1000,
    measureFrom,
  };
}

async function capacity(): Promise<Record<string, unknown>> {
  if (!Number.isInteger(HOSTS) || HOSTS < 1) throw new Error('BENCH_HOSTS: a positive integer');
  if (!(SECONDS > 0)) throw new Error('BENCH_SECONDS: a positive number');
  const { databaseUrl, dbName, apiUrl, simPort, env } = await benchEnv('bench_fleet', cleanups, {
    SIM_ACCESS_KEY_ID: KEY_ID,
    SIM_ACCESS_KEY_SECRET: SECRET,
    SIM_RATE_LIMITS: 'false',
    SIM_TIME_SCALE: '0.1',
    STANDBY_POOL: `fuji=${STANDBYS_PER_ZONE}`,
    LEASE_RENEW_SECONDS: String(RENEW_S),
  });
  // Migrates (the api and worker would too); three connections: seed, sweeps, Postgres CPU.
  const ds = await openDatabase(databaseUrl, { poolSize: 3 });
  cleanups.push('bench connection', () => ds.destroy());

  const sim = spawnChild('ecs-sim', { ...env, LOG_LEVEL: 'warn' });
  await waitFor(
    'the simulator',
    async () => (await fetch(`http://127.0.0.1:${simPort}/_sim/healthz`)).ok,
  );
  let t = performance.now();
  const { ids, zones } = await launch(simPort, HOSTS);
  log(`${HOSTS} instances Running in the simulator in ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  const fleet = await seed(ds, ids, zones);
  const standbys = fleet.filter((h) => h.generation === null).length;
  log(
    `${fleet.length - standbys} active validators and ${standbys} standbys seeded in ${Math.round(performance.now() - t)} ms`,
  );

  // The API's stdout (a request log line per renewal at info) goes nowhere, as in bench:api.
  const api = spawnChild('api', env, false);
  await waitFor(
    'the API',
    async () => (await fetch(`${apiUrl}/healthz`)).ok || undefined,
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${api.tail.join('\n')}`);
  });
  const worker = spawnChild('worker', env);
  await waitFor(
    'the first sweep',
    async () =>
      ((await ds.query(`SELECT 1 FROM control_loops WHERE name = 'sweeper'`)) as unknown[]).length >
      0,
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${worker.tail.join('\n')}`);
  });
  for (const c of [sim, api, worker]) {
    c.child.once('exit', (code, signal) => {
      if (!c.stopping)
        log(`${c.name} exited (${code ?? signal}) during the run:\n${c.tail.join('\n')}`);
    });
  }

  // Sweeps recorded during the measured window (the sweeper's own durationMs).
  const sweeps = new Map<string, { durationMs: number; hosts: number; verdicts: object }>();
  let sweepWatch = true;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const sweepLoop = (async () => {
    while (sweepWatch) {
      const [row] = (await ds
        .query(`SELECT stats FROM control_loops WHERE name = 'sweeper'`)
        .catch(() => [])) as {
        stats: { startedAt: string; durationMs: number; hosts: number; verdicts: object };
      }[];
      const started = row ? Date.parse(row.stats.startedAt) : NaN;
      if (row && started >= windowStart && started < windowEnd)
        sweeps.set(row.stats.startedAt, row.stats);
      await sleep(500);
    }
  })();

  const warmupS = RENEW_S;
  log(
    `renewing ${fleet.length} hosts every ${RENEW_S} s (${Math.round(fleet.length / RENEW_S)}/s offered): ${warmupS} s warm-up, then ${SECONDS} s measured`,
  );
  const pg = pgCpuSampler(ds, dbName);
  let apiCpu0 = 0;
  let apiCpu = NaN;
  let windowWall0 = 0;
  let windowMs = NaN;
  let pgStarted: Promise<void> = Promise.resolve();
  let pgCpu: Promise<Awaited<ReturnType<typeof pg.stop>>> | undefined;
  let size0: Promise<DbSize> | undefined;
  let size1: Promise<DbSize> | undefined;
  const r = await renewals(apiUrl, fleet, warmupS, SECONDS, {
    onStart: () => {
      apiCpu0 = cpuMs(api.child.pid) ?? NaN;
      windowStart = Date.now();
      windowWall0 = performance.now();
      pgStarted = pg.start();
      size0 = dbSize(ds);
    },
    onEnd: () => {
      apiCpu = (cpuMs(api.child.pid) ?? NaN) - apiCpu0;
      windowMs = performance.now() - windowWall0;
      windowEnd = Date.now();
      pgCpu = pgStarted.then(() => pg.stop());
      size1 = dbSize(ds);
    },
  });
  const pgCpuResult = await pgCpu!;
  const [sizeStart, sizeEnd] = [await size0!, await size1!];
  const perHour = (delta: number) => (delta * 3_600_000) / windowMs;
  const mb = (bytes: number) => bytes / 1024 / 1024;
  const growthByTable = Object.fromEntries(
    Object.entries(sizeEnd.tables)
      .map(([name, bytes]) => [name, round1(mb(perHour(bytes - (sizeStart.tables[name] ?? 0))))])
      .filter(([, v]) => v !== 0)
      .sort((a, b) => (b[1] as number) - (a[1] as number)),
  );
  sweepWatch = false;
  await sweepLoop;

  const sweepMs = [...sweeps.values()].map((s) => s.durationMs).sort((a, b) => a - b);
  const lastSweep = [...sweeps.values()].at(-1);
  const states = Object.fromEntries(
    (
      (await ds.query(`SELECT state, count(*)::int AS n FROM validators GROUP BY state`)) as {
        state: string;
        n: number;
      }[]
    ).map((x) => [x.state, x.n]),
  );
  const [failovers] = (await ds.query(`SELECT count(*)::int AS n FROM failovers`)) as {
    n: number;
  }[];
  const result = {
    hosts: fleet.length,
    active: fleet.length - standbys,
    standbys,
    seconds: SECONDS,
    renewals_offered_per_s: round1(fleet.length / RENEW_S),
    renewals_per_s: round1((r.answeredInWindow * 1000) / windowMs),
    renewals_in_time_per_s: round1(((r.answeredInWindow - r.late) * 1000) / windowMs),
    renewal_p50_ms: round1(r.p50),
    renewal_p99_ms: round1(r.p99),
    renewal_max_ms: round1(r.max),
    errors: r.errors,
    error_statuses: r.statuses,
    late_over_5s: r.late,
    unanswered: r.unanswered,
    api_cpu_ms_per_renewal: r.answeredInWindow ? round3(apiCpu / r.answeredInWindow) : null,
    api_cpu_cores: round3(apiCpu / windowMs),
    pg_cpu_ms_per_renewal:
      pgCpuResult.ms !== null && r.answeredInWindow
        ? round3(pgCpuResult.ms / r.answeredInWindow)
        : null,
    pg_cpu_note:
      pgCpuResult.error ??
      `${pgCpuResult.backends} backends of the bench database; shared Postgres processes not counted`,
    loadgen_cpu_ms_per_renewal: r.issued ? round3(r.loadgenCpuMs / r.issued) : null,
    issue_lag_p99_ms: round1(r.lagP99),
    max_in_flight: r.maxInFlight,
    sockets: SOCKETS,
    sweeps: sweepMs.length,
    sweep_ms: sweepMs.length ? Math.round(quantile(sweepMs, 0.5)) : null,
    sweep_ms_max: sweepMs.length ? Math.round(sweepMs.at(-1)!) : null,
    sweep_hosts: lastSweep?.hosts ?? null,
    sweep_verdicts: lastSweep?.verdicts ?? null,
    db_size_mb: round1(mb(sizeEnd.bytes)),
    db_growth_mb_per_hour: round1(mb(perHour(sizeEnd.bytes - sizeStart.bytes))),
    db_growth_by_table_mb_per_hour: growthByTable,
    events_per_hour: Math.round(perHour(sizeEnd.events - sizeStart.events)),
    validator_states: states,
    failovers: failovers?.n ?? null,
    cloud: 'ecs-sim: every instance Running (foreign UserData, no simulated agent)',
    rss_mb: {
      api: peakRssMb(api.child.pid),
      worker: peakRssMb(worker.child.pid),
      ecs_sim: peakRssMb(sim.child.pid),
      loadgen: Math.round(process.memoryUsage().rss / 1024 / 1024),
    },
  };
  log(
    `renewals asked in the window: ${r.issued}, ${r.ok} answered 200 by the end, ${r.unanswered} never; answered in the window: ${r.answeredInWindow}; API CPU ${Math.round(apiCpu)} ms, Postgres ${pgCpuResult.ms ?? 'n/a'} ms, load generator ${Math.round(r.loadgenCpuMs)} ms over ${Math.round(windowMs)} ms`,
  );
  return result;
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {
    part: PART,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? null,
      load_1m: round1(loadavg()[0]!),
    },
  };
  if (PART !== 'agents') {
    out.capacity = await capacity();
    await cleanups.run();
  }
  if (PART !== 'capacity') {
    out.agents = await agentsPart({ cleanups, log });
    await cleanups.run();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const watchdog = setTimeout(() => {
  log(`timed out after ${TIMEOUT_S} s`);
  void cleanups.run().finally(() => process.exit(1));
}, TIMEOUT_S * 1000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanups.run().finally(() => process.exit(130)));
}

main().then(
  () =>
    cleanups.run().finally(() => {
      clearTimeout(watchdog);
      process.exit(0);
    }),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    void cleanups.run().finally(() => process.exit(1));
  },
);
