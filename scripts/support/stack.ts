import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createTestDatabase } from './db';

// Works from scripts/support (ts-jest) and dist/scripts/support (built): find the repo root.
const ROOT = __dirname.includes(`${join('dist', 'scripts')}`)
  ? join(__dirname, '..', '..', '..')
  : join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
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

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`,
  );
}

export interface Stack {
  apiUrl: string;
  simUrl: string;
  simPort: number;
  adminKey: string;
  databaseUrl: string;
  env: Record<string, string>;
  logs: Record<string, string[]>;
  procs: Record<string, ChildProcess>;
  /** Starts a process of the stack again (after a test killed it), with the same settings. */
  respawn: (name: 'api' | 'worker' | 'ecs-sim') => void;
  api: (path: string, init?: RequestInit & { json?: unknown; key?: string }) => Promise<Response>;
  stop: () => Promise<void>;
}

/**
 * Spawns the built api, worker and ecs-sim (run `npm run build` first) on free ports, with their own
 * database, Redis key prefix and data dir, so suites never collide with each other or with `npm start`.
 */
export async function startStack(
  tag: string,
  extraEnv: Record<string, string> = {},
): Promise<Stack> {
  const db = await createTestDatabase(tag);
  const [apiPort, simPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), `snowline-${tag}-`));
  const prefix = `snowline-test-${tag}-${randomBytes(4).toString('hex')}`;
  const adminKey = `sl_admin_test_${randomBytes(18).toString('base64url')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: prefix,
    API_PORT: String(apiPort),
    ECS_SIM_PORT: String(simPort),
    SNOWLINE_DATA_DIR: dataDir,
    SNOWLINE_ADMIN_KEY: adminKey,
    SIM_TIME_SCALE: '0.5',
    SIM_BOOTSTRAP_SECONDS: '1',
    LEASE_RENEW_SECONDS: '1',
    RECONCILE_INTERVAL_SECONDS: '5',
    ...extraEnv,
  };
  const logs: Record<string, string[]> = {};
  const procs: Record<string, ChildProcess> = {};
  const start = (name: string) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', name, 'src', 'main.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    logs[name] ??= [];
    const push = (b: Buffer) => logs[name]!.push(...b.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', push);
    child.stderr!.on('data', push);
    procs[name] = child;
  };
  for (const name of ['ecs-sim', 'api', 'worker']) start(name);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const simUrl = `http://127.0.0.1:${simPort}`;
  const stop = async () => {
    await Promise.all(
      Object.values(procs).map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    const redis = new IORedis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the simulator', async () => (await fetch(`${simUrl}/_sim/healthz`)).ok, 30_000);
    await waitFor('the API', async () => (await fetch(`${apiUrl}/healthz`)).ok, 30_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${JSON.stringify(logs, null, 1).slice(0, 4000)}`);
  }
  const api: Stack['api'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${init.key ?? adminKey}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${apiUrl}${path}`, {
      ...init,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  };
  return {
    apiUrl,
    simUrl,
    simPort,
    adminKey,
    databaseUrl: db.url,
    env,
    logs,
    procs,
    respawn: start,
    api,
    stop,
  };
}
