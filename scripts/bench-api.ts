/**
 * `npm run bench:api`: the built API as its own process on loopback, its own database and Redis prefix;
 * autocannon drives endpoints of that one server in the same run: bare = GET /v1/whoami (the trivial
 * authenticated route: the key check, rate limit, request log and routing every API call pays, and
 * nothing else), list = GET /v1/validators?limit=20 over 40 rows, create = POST /v1/validators.
 * GET /healthz (no key, not logged) is measured next to bare and printed as `healthz_rps`, with the
 * ratios against it (`*_ratio_vs_healthz`), so both baselines are on record.
 *
 * Throughput (`*_rps`) is the peak: a closed loop of BENCH_CONNECTIONS (default 16) connections.
 * Latency (`list_p99_ms`, `create_p99_ms`) is measured under load: half of that endpoint's own peak
 * rate, offered evenly (open loop); the p99 at peak is printed too (`*_p99_at_peak_ms`, the median of
 * the slices' p99s), but in a saturated closed loop it only measures the queue the connection count
 * builds (≈ connections ÷ rps).
 * Each figure is the median of BENCH_ROUNDS (default 3) rounds. In a round, healthz, bare and the
 * endpoint take turns in BENCH_SLICES (default 5) slices of BENCH_SECONDS ÷ slices each (whole
 * seconds: autocannon stops on its 1-second tick), so the VM's drifting speed weighs on the endpoint
 * and its baseline alike; every round is printed to stderr with the API's CPU per request (from
 * /proc), the figure least moved by other load on the machine. List rounds run first, over the 40
 * seeded rows. Only the API runs, no worker: validators stay `pending`, and no identity is generated
 * on this machine during the run (that is the worker's job, on its own machine in production).
 * BENCH_SECONDS (default 5) per endpoint and phase. The API logs at `info` (the production default)
 * to /dev/null.
 * Any non-2xx answer or socket error fails the run. Prints one JSON line at the end.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the API process there (open it in Chrome DevTools);
 * BENCH_ONLY=create (or list, bare) runs just that phase in full, to profile one endpoint.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import IORedis from 'ioredis';
import { dropDatabase, ensureDatabase } from '@snowline/persistence';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const slices = Math.max(1, Math.floor(Number(process.env.BENCH_SLICES ?? 5) || 5));
const log = (m: string) => process.stderr.write(`[bench:api] ${m}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : round2((s[m - 1]! + s[m]!) / 2);
};

/** CPU time (user + system, ms) of a process so far, from /proc; 0 where there is no /proc. */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return 0;
  }
}

interface Paced {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  lagP99: number;
  non2xx: number;
  errors: number;
}

/**
 * Open-loop load at a fixed rate, evenly spaced (autocannon's `overallRate` sends each second's quota
 * in a burst): request i is due at start + i/rate on a pool of keep-alive connections, whether or not
 * earlier answers came back. Latency counts from when the request was issued (waiting for a free
 * connection included); how late this process's own timers issued requests is reported apart
 * (`lagP99`), so a busy load generator is not blamed on the server.
 */
async function paced(
  req: { url: string; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  rate: number,
  durationS: number,
): Promise<Paced> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const total = Math.round(rate * durationS);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  const lags: number[] = [];
  const one = (due: number) =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      lags.push(sent - due);
      const r = httpRequest(
        req.url,
        { method: req.method ?? 'GET', headers: req.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
            else latencies.push(performance.now() - sent);
            resolve();
          });
        },
      );
      r.on('error', () => {
        errors++;
        resolve();
      });
      r.end(req.body);
    });
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(one(due));
  }
  await Promise.all(inflight);
  agent.destroy();
  const q = (xs: number[], p: number) => {
    xs.sort((a, b) => a - b);
    return Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0);
  };
  return {
    requests: total,
    rps: Math.round((total * 1000) / (performance.now() - start)),
    p50: q(latencies, 0.5),
    p99: q(latencies, 0.99),
    lagP99: q(lags, 0.99),
    non2xx,
    errors,
  };
}

async function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ connections, duration: seconds, pipelining: 1, ...opts });
}

async function main() {
  const base = process.env.BENCH_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const dbUrl = `${base}/snowline_bench_api_${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const prefix = `snowline-bench-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'snowline-bench-api-'));
  const adminKey = `sl_admin_bench_${randomBytes(18).toString('base64url')}`;
  const port = await freePort();
  await ensureDatabase(dbUrl);
  const prof = process.env.BENCH_CPU_PROF;
  const nodeArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const main = join(__dirname, '..', 'apps', 'api', 'src', 'main.js');
  const api = spawn(process.execPath, [...nodeArgs, main], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      API_PORT: String(port),
      SNOWLINE_DATA_DIR: dataDir,
      SNOWLINE_ADMIN_KEY: adminKey,
      RATE_LIMIT_RPS: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const cleanup = async () => {
    if (api.exitCode === null) {
      api.kill('SIGTERM');
      await new Promise((r) => api.once('exit', r));
    }
    const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dropDatabase(dbUrl).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline || api.exitCode !== null) throw new Error('the API did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const auth = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    log('seeding 40 validators');
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${url}/v1/validators`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ network: 'local', labels: { seed: 'yes' } }),
      });
      if (r.status !== 202) throw new Error(`seed: ${r.status} ${await r.text()}`);
    }
    const bareReq = { url: `${url}/v1/whoami`, headers: auth };
    const listReq = { url: `${url}/v1/validators?limit=20`, headers: auth };
    log('warm-up');
    await run({ url: `${url}/healthz`, duration: 2 });
    await run({ ...bareReq, duration: 2 });
    await run({ ...listReq, duration: 2 });
    const only = process.env.BENCH_ONLY;
    /**
     * Peak throughput of several endpoints, interleaved: BENCH_SLICES (default 5) slices each, in
     * turn (healthz, bare, endpoint, healthz, bare, endpoint, …), so a minute in which the VM is slow
     * weighs on all of them alike instead of on whichever was measured then. Each endpoint gets
     * BENCH_SECONDS in all; its rps is its requests over its own measured time.
     */
    type Peak = { name: string; rps: number; p99: number; cpuUs: number | null };
    const peaks = async (phases: [string, autocannon.Options][]): Promise<Peak[]> => {
      const acc = phases.map(([name]) => ({
        name,
        requests: 0,
        ms: 0,
        cpu: 0,
        p99s: [] as number[],
      }));
      for (let s = 0; s < slices; s++) {
        for (const [i, [name, opts]] of phases.entries()) {
          // BENCH_ONLY: the other endpoints get one short slice, for their figures not to be empty.
          const skipped = Boolean(only && only !== name);
          if (skipped && s > 0) continue;
          const cpu0 = cpuMs(api.pid);
          // autocannon stops on its 1-second sample tick: slices are whole seconds.
          const r = await run({
            ...opts,
            duration: skipped ? 1 : Math.max(1, Math.round(seconds / slices)),
          });
          if (r.non2xx || r.errors)
            throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          const a = acc[i]!;
          a.cpu += cpuMs(api.pid) - cpu0;
          a.requests += r.requests.total;
          a.ms += new Date(r.finish).getTime() - new Date(r.start).getTime();
          a.p99s.push(r.latency.p99);
        }
      }
      return acc.map((a) => {
        const peak: Peak = {
          name: a.name,
          rps: Math.round((a.requests * 1000) / a.ms),
          p99: median(a.p99s),
          cpuUs: a.requests ? Math.round((a.cpu * 1000) / a.requests) : null,
        };
        log(
          `${a.name} (peak, ${connections} connections, ${a.p99s.length} slices): ${peak.rps} rps, ` +
            `p99 ${peak.p99} ms (median of slices), API CPU ${peak.cpuUs ?? 0} µs/request`,
        );
        return peak;
      });
    };
    const createReq = {
      url: `${url}/v1/validators`,
      method: 'POST' as const,
      headers: auth,
      body: JSON.stringify({ network: 'local' }),
    };
    const half = (x: Peak) => Math.max(1, Math.round(x.rps / 2));
    const atHalf = async (name: string, req: Parameters<typeof paced>[0], rate: number) => {
      const cpu0 = cpuMs(api.pid);
      const p = await paced(req, rate, only && only !== name ? 1 : seconds);
      const cpuUs = Math.round(((cpuMs(api.pid) - cpu0) * 1000) / p.requests);
      log(
        `${name} at ${rate} rps offered evenly: ${p.rps} rps, p50 ${p.p50} ms, p99 ${p.p99} ms ` +
          `(issued late by ${p.lagP99} ms at p99), ` +
          `API CPU ${cpuUs} µs/request, non-2xx ${p.non2xx}, errors ${p.errors}`,
      );
      if (p.non2xx || p.errors) throw new Error(`${name}: ${p.non2xx} non-2xx, ${p.errors} errors`);
      return p;
    };
    // Rounds: this machine's speed drifts from minute to minute (a shared VM), so each round measures
    // bare interleaved with the endpoint it is compared with, and the figures are the rounds' medians.
    type Round = {
      healthz: number;
      vsHealthz: number;
      bare: number;
      rps: number;
      ratio: number;
      p50: number;
      p99: number;
      peakP99: number;
    };
    const round = async (name: string, req: Parameters<typeof paced>[0], i: number) => {
      log(`${name}: round ${i + 1} of ${rounds}`);
      const [healthz, bare, peak] = await peaks([
        ['healthz', { url: `${url}/healthz` }],
        ['bare', bareReq],
        [name, req],
      ]);
      const under = await atHalf(name, req, half(peak!));
      return {
        healthz: healthz!.rps,
        vsHealthz: round2(peak!.rps / healthz!.rps),
        bare: bare!.rps,
        rps: peak!.rps,
        ratio: round2(peak!.rps / bare!.rps),
        p50: under.p50,
        p99: under.p99,
        peakP99: peak!.p99,
      } satisfies Round;
    };
    const lists: Round[] = [];
    for (let i = 0; i < rounds; i++) lists.push(await round('list', listReq, i));
    const creates: Round[] = [];
    for (let i = 0; i < rounds; i++) creates.push(await round('create', createReq, i));
    const med = (rs: Round[], k: keyof Round) => median(rs.map((r) => r[k]));
    process.stdout.write(
      JSON.stringify({
        bare_rps: median([...lists, ...creates].map((r) => r.bare)),
        list_rps: med(lists, 'rps'),
        list_p99_ms: med(lists, 'p99'),
        create_rps: med(creates, 'rps'),
        create_p99_ms: med(creates, 'p99'),
        list_ratio: med(lists, 'ratio'),
        create_ratio: med(creates, 'ratio'),
        list_p50_ms: med(lists, 'p50'),
        create_p50_ms: med(creates, 'p50'),
        list_p99_at_peak_ms: med(lists, 'peakP99'),
        create_p99_at_peak_ms: med(creates, 'peakP99'),
        healthz_rps: median([...lists, ...creates].map((r) => r.healthz)),
        list_ratio_vs_healthz: med(lists, 'vsHealthz'),
        create_ratio_vs_healthz: med(creates, 'vsHealthz'),
        list_rounds: lists.map(({ ratio, p99 }) => ({ ratio, p99 })),
        create_rounds: creates.map(({ ratio, p99 }) => ({ ratio, p99 })),
        connections,
        seconds,
      }) + '\n',
    );
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
