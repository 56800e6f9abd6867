/**
 * `npm run bench:api`: the built API as its own process on loopback, its own database and Redis prefix;
 * autocannon drives three endpoints of that one server in the same run (bare = GET /healthz, list =
 * GET /v1/validators?limit=20 over 40+ rows, create = POST /v1/validators).
 *
 * Throughput (`*_rps`) is the peak: a closed loop of BENCH_CONNECTIONS (default 16) connections.
 * Latency (`list_p99_ms`, `create_p99_ms`) is measured under load, at half of that endpoint's own peak
 * rate offered evenly; the p99 at peak is printed too (`*_p99_at_peak_ms`), but in a saturated closed
 * loop it only measures the queue the connection count builds (≈ connections ÷ rps). `*_cpu_us` is the
 * API process's CPU per request (from /proc), the figure least moved by other load on the machine.
 * BENCH_SECONDS (default 6) per phase. The API logs at `info` (the production default) to /dev/null.
 * Any non-2xx answer or socket error fails the run. Prints one JSON line at the end.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the API process there (open it in Chrome DevTools);
 * BENCH_ONLY=create (or list, bare) runs just that phase in full, to profile one endpoint.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import IORedis from 'ioredis';
import { dropDatabase, ensureDatabase } from '@snowline/persistence';

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
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
    log('warm-up');
    await run({ url: `${url}/healthz`, duration: 2 });
    const only = process.env.BENCH_ONLY;
    const phase = async (name: string, opts: autocannon.Options) => {
      const cpu0 = cpuMs(api.pid);
      const r = await run({ ...opts, ...(only && only !== name ? { duration: 1 } : {}) });
      const cpu = cpuMs(api.pid) - cpu0;
      const rate = opts.overallRate ? ` at ${opts.overallRate} rps offered` : ' (peak)';
      log(
        `${name}${rate}: ${Math.round(r.requests.average)} rps, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
          `API CPU ${r.requests.total ? Math.round((cpu * 1000) / r.requests.total) : 0} µs/request, non-2xx ${r.non2xx}, errors ${r.errors}`,
      );
      if (r.non2xx || r.errors) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      return { r, cpuUs: r.requests.total ? Math.round((cpu * 1000) / r.requests.total) : null };
    };
    const listReq = { url: `${url}/v1/validators?limit=20`, headers: auth };
    const createReq = {
      url: `${url}/v1/validators`,
      method: 'POST' as const,
      headers: auth,
      body: JSON.stringify({ network: 'local' }),
    };
    // Peak throughput: closed loop, every connection busy.
    // Latency under load: half of each endpoint's own peak rate, offered evenly (at peak, a closed
    // loop's p99 only measures the queue its own connection count builds: connections ÷ rps). List
    // goes first: every create leaves an identity to generate in the background for minutes after.
    const half = (x: { r: autocannon.Result }) => Math.max(1, Math.round(x.r.requests.average / 2));
    const bare = await phase('bare', { url: `${url}/healthz` });
    const list = await phase('list', listReq);
    const listAtHalf = await phase('list', { ...listReq, overallRate: half(list) });
    const create = await phase('create', createReq);
    const createAtHalf = await phase('create', { ...createReq, overallRate: half(create) });
    process.stdout.write(
      JSON.stringify({
        bare_rps: Math.round(bare.r.requests.average),
        list_rps: Math.round(list.r.requests.average),
        list_p99_ms: listAtHalf.r.latency.p99,
        create_rps: Math.round(create.r.requests.average),
        create_p99_ms: createAtHalf.r.latency.p99,
        list_ratio: round2(list.r.requests.average / bare.r.requests.average),
        create_ratio: round2(create.r.requests.average / bare.r.requests.average),
        list_p99_at_peak_ms: list.r.latency.p99,
        create_p99_at_peak_ms: create.r.latency.p99,
        bare_cpu_us: bare.cpuUs,
        list_cpu_us: list.cpuUs,
        create_cpu_us: create.cpuUs,
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
