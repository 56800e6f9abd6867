import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createTestDatabase } from './db';
import { freePort, waitFor } from './stack';

// Works from scripts/support (ts-jest) and dist/scripts/support (built): find the repo root.
const ROOT = __dirname.includes(`${join('dist', 'scripts')}`)
  ? join(__dirname, '..', '..', '..')
  : join(__dirname, '..', '..');

export type HaProcess = 'ecs-sim' | 'api-1' | 'api-2' | 'worker-1' | 'worker-2';
const APP: Record<HaProcess, string> = {
  'ecs-sim': 'ecs-sim',
  'api-1': 'api',
  'api-2': 'api',
  'worker-1': 'worker',
  'worker-2': 'worker',
};

/**
 * A round-robin TCP proxy on 127.0.0.1 in front of the APIs: the agents' one control-plane URL.
 * A connection goes to the next upstream that accepts it, so a dead API costs a reconnect, no more.
 */
export async function roundRobinProxy(
  upstreams: number[],
): Promise<{ port: number; close: () => Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.pause();
    const attempt = (left: number) => {
      const port = upstreams[next++ % upstreams.length]!;
      const up = createConnection({ host: '127.0.0.1', port });
      let connected = false;
      up.once('connect', () => {
        connected = true;
        sockets.add(up);
        client.pipe(up).pipe(client);
        client.resume();
        client.on('error', () => up.destroy());
        client.once('close', () => up.destroy());
      });
      up.once('close', () => {
        sockets.delete(up);
        if (connected) client.destroy(); // the API died mid-request: the caller sees it at once
      });
      up.once('error', () => {
        if (connected) return;
        if (left > 1)
          attempt(left - 1); // refused: try the next API
        else client.destroy();
      });
    };
    attempt(upstreams.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A private Postgres (initdb as the `postgres` user: initdb refuses root) on its own port and dir. */
export async function privatePostgres(dir: string): Promise<{
  url: string;
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}> {
  const port = await freePort();
  const data = join(dir, 'pg');
  mkdirSync(data, { recursive: true });
  chmodSync(dir, 0o755);
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(data, uid, gid);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(
      asPostgres ? 'runuser' : cmd,
      asPostgres ? ['-u', 'postgres', '--', cmd, ...args] : args,
      {
        stdio: 'ignore',
        timeout: 60_000,
      },
    );
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const pgCtl = (action: string) =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(data, 'log'),
      '-w',
      '-t',
      '30',
      '-m',
      'fast',
      '-o',
      `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off`,
      action,
    ]);
  pgCtl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}`,
    restart: async () => {
      pgCtl('restart');
    },
    stop: async () => {
      try {
        pgCtl('stop');
      } catch {
        /* already down */
      }
    },
  };
}

/** A private Redis on its own port, nothing saved: a restart loses every queued job. */
export async function privateRedis(): Promise<{
  url: string;
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor('the private redis', async () => {
      const r = new IORedis(port, '127.0.0.1', { maxRetriesPerRequest: 0, lazyConnect: true });
      r.on('error', () => undefined); // refused until it listens
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}

export interface HaStack {
  /** The round-robin proxy in front of both APIs (what agents and these helpers call). */
  apiUrl: string;
  apiUrls: Record<'api-1' | 'api-2', string>;
  simUrl: string;
  adminKey: string;
  databaseUrl: string;
  env: Record<string, string>;
  logs: Record<string, string[]>;
  procs: Record<HaProcess, ChildProcess>;
  respawn: (name: HaProcess) => void;
  api: (path: string, init?: RequestInit & { json?: unknown; key?: string }) => Promise<Response>;
  /** Present with `privateServices`: restart the stack's own Postgres and Redis. */
  restartPostgres?: () => Promise<void>;
  restartRedis?: () => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * The replicated control plane on one machine: the simulator, two APIs and two workers (built dist,
 * run `npm run build` first) on one database and one Redis prefix, with one master key, and a
 * round-robin proxy in front of the APIs. With `privateServices`, Postgres and Redis are the stack's
 * own (own ports, own data dir), so a test may restart them; never the shared ones.
 */
export async function startHaStack(
  tag: string,
  extraEnv: Record<string, string> = {},
  opts: { privateServices?: boolean } = {},
): Promise<HaStack> {
  const dir = mkdtempSync(join(tmpdir(), `snowline-ha-${tag}-`));
  const cleanups: (() => Promise<void>)[] = [];
  let databaseUrl: string;
  let redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  let restartPostgres: (() => Promise<void>) | undefined;
  let restartRedis: (() => Promise<void>) | undefined;
  if (opts.privateServices) {
    const pg = await privatePostgres(dir);
    cleanups.push(pg.stop);
    const redis = await privateRedis();
    cleanups.push(redis.stop);
    databaseUrl = `${pg.url}/snowline`;
    redisUrl = redis.url;
    restartPostgres = pg.restart;
    restartRedis = redis.restart;
  } else {
    const db = await createTestDatabase(`ha_${tag}`);
    databaseUrl = db.url;
    cleanups.push(() => db.drop().catch(() => undefined));
  }
  const ports = {
    'api-1': await freePort(),
    'api-2': await freePort(),
    sim: await freePort(),
  };
  const proxy = await roundRobinProxy([ports['api-1'], ports['api-2']]);
  const prefix = `snowline-test-ha-${tag}-${randomBytes(4).toString('hex')}`;
  const adminKey = `sl_admin_test_${randomBytes(18).toString('base64url')}`;
  const apiUrl = `http://127.0.0.1:${proxy.port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    ECS_SIM_PORT: String(ports.sim),
    SNOWLINE_DATA_DIR: join(dir, 'data'),
    SNOWLINE_ADMIN_KEY: adminKey,
    SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
    AGENT_CONTROL_PLANE_URL: apiUrl,
    SIM_TIME_SCALE: '0.5',
    SIM_BOOTSTRAP_SECONDS: '1',
    LEASE_RENEW_SECONDS: '1',
    RECONCILE_INTERVAL_SECONDS: '5',
    ...extraEnv,
  };
  const logs: Record<string, string[]> = {};
  const procs = {} as Record<HaProcess, ChildProcess>;
  const start = (name: HaProcess) => {
    const port = name === 'api-1' || name === 'api-2' ? { API_PORT: String(ports[name]) } : {};
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'apps', APP[name], 'src', 'main.js')],
      {
        env: { ...env, ...port },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    logs[name] ??= [];
    const push = (b: Buffer) => {
      const lines = logs[name]!;
      lines.push(...b.toString('utf8').split('\n').filter(Boolean));
      if (lines.length > 5000) lines.splice(0, lines.length - 5000); // bounded
    };
    child.stdout!.on('data', push);
    child.stderr!.on('data', push);
    procs[name] = child;
  };
  // One API migrates first, so four processes do not race on an empty database's first migration.
  start('ecs-sim');
  start('api-1');
  const stop = async () => {
    await Promise.all(
      Object.values(procs).map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.kill('SIGCONT'); // a frozen process cannot exit
            const t = setTimeout(() => p.kill('SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    await proxy.close();
    if (!opts.privateServices) {
      const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const simUrl = `http://127.0.0.1:${ports.sim}`;
  const apiUrls = {
    'api-1': `http://127.0.0.1:${ports['api-1']}`,
    'api-2': `http://127.0.0.1:${ports['api-2']}`,
  };
  try {
    await waitFor('the simulator', async () => (await fetch(`${simUrl}/_sim/healthz`)).ok, 30_000);
    await waitFor('api-1', async () => (await fetch(`${apiUrls['api-1']}/healthz`)).ok, 60_000);
    for (const name of ['api-2', 'worker-1', 'worker-2'] as const) start(name);
    await waitFor('api-2', async () => (await fetch(`${apiUrls['api-2']}/healthz`)).ok, 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${JSON.stringify(logs, null, 1).slice(0, 4000)}`);
  }
  const api: HaStack['api'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${init.key ?? adminKey}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${apiUrl}${path}`, {
      signal: AbortSignal.timeout(15_000),
      ...init,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  };
  return {
    apiUrl,
    apiUrls,
    simUrl,
    adminKey,
    databaseUrl,
    env,
    logs,
    procs,
    respawn: start,
    api,
    restartPostgres,
    restartRedis,
    stop,
  };
}

/** Which worker process (by pid) leads each loop now, from `leader_leases` (expired leases left out). */
export async function leaders(databaseUrl: string): Promise<Record<string, number>> {
  const { Client } = await import('pg');
  const c = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string; holder: string }>(
      `SELECT name, holder FROM leader_leases WHERE expires_at > clock_timestamp()`,
    );
    // holder is host:pid:random
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.holder.split(':').at(-2))]));
  } finally {
    await c.end();
  }
}
