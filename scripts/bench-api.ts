/**
 * `npm run bench:api`: the built API as its own process on loopback, its own database and Redis prefix;
 * autocannon drives three endpoints of that one server in the same run. Prints one JSON line:
 * `{ bare_rps, list_rps, list_p99_ms, create_rps, create_p99_ms }` (bare = GET /healthz, list =
 * GET /v1/validators?limit=20, create = POST /v1/validators). BENCH_SECONDS (default 6) per phase,
 * BENCH_CONNECTIONS (default 16). The API logs at `info` (the production default) to /dev/null.
 * BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the API process there (open it in Chrome DevTools);
 * BENCH_ONLY=create (or list, bare) runs just that phase, to profile one endpoint.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
    log(`bare (GET /healthz) ${seconds}s`);
    const only = process.env.BENCH_ONLY;
    const skip = (name: string) => only !== undefined && only !== name;
    const bare = await run({ url: `${url}/healthz`, ...(skip('bare') ? { duration: 1 } : {}) });
    log(`list (GET /v1/validators?limit=20) ${seconds}s`);
    const list = await run({
      url: `${url}/v1/validators?limit=20`,
      headers: auth,
      ...(skip('list') ? { duration: 1 } : {}),
    });
    log(`create (POST /v1/validators) ${seconds}s`);
    const create = await run({
      url: `${url}/v1/validators`,
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ network: 'local' }),
      ...(skip('create') ? { duration: 1 } : {}),
    });
    for (const [name, r] of [
      ['bare', bare],
      ['list', list],
      ['create', create],
    ] as const) {
      log(
        `${name}: ${Math.round(r.requests.average)} rps, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
      );
    }
    process.stdout.write(
      JSON.stringify({
        bare_rps: Math.round(bare.requests.average),
        list_rps: Math.round(list.requests.average),
        list_p99_ms: list.latency.p99,
        create_rps: Math.round(create.requests.average),
        create_p99_ms: create.latency.p99,
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
