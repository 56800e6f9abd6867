import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import IORedis from 'ioredis';
import { createTestDatabase } from './db';
import { freePort } from './stack';

// Works from scripts/support (ts-jest) and dist/scripts/support (built): find the built apps.
const DIST = __dirname.includes(join('dist', 'scripts'))
  ? join(__dirname, '..', '..')
  : join(__dirname, '..', '..', 'dist');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Cleanups of a bench: run last-in first-out, each at most once and within 10 s, whether the run
 * succeeds, fails or times out. `run()` may be called again after more were added (one bench part
 * after another).
 */
export class Cleanups {
  private readonly list: { name: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly log: (msg: string) => void) {}

  push(name: string, run: () => Promise<unknown>): void {
    this.list.push({ name, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.list.length) {
        const c = this.list.pop()!;
        await Promise.race([
          c.run(),
          sleep(10_000).then(() => Promise.reject(new Error('timed out'))),
        ]).catch((err: unknown) => this.log(`cleanup ${c.name} failed: ${(err as Error).message}`));
      }
    })().finally(() => (this.running = null));
    return this.running;
  }
}

/** utime + stime of a process, in ms (USER_HZ = 100); null when it is gone. */
export function cpuMs(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** Peak resident set (VmHWM) of a process, in MB; null when it is gone. */
export function peakRssMb(pid: number | undefined): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export interface Child {
  name: string;
  child: ChildProcess;
  /** The last lines it wrote (for a failure message). */
  tail: string[];
  /** Set once its cleanup began: an exit after that is expected. */
  stopping: boolean;
}

/**
 * Spawns a built app (`dist/apps/<name>/src/main.js`), keeps its last 50 lines, hands every line to
 * `onLine`, and registers its stop (SIGTERM, SIGKILL after 5 s) with `cleanups`.
 */
export function spawnApp(
  name: string,
  env: Record<string, string>,
  cleanups: Cleanups,
  opts: { keepStdout?: boolean; nodeArgs?: string[]; onLine?: (line: string) => void } = {},
): Child {
  const main = join(DIST, 'apps', name, 'src', 'main.js');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), main], {
    env,
    stdio: ['ignore', (opts.keepStdout ?? true) ? 'pipe' : 'ignore', 'pipe'],
  });
  const c: Child = { name, child, tail: [], stopping: false };
  // BENCH_LOG_DIR: every line of every process, to <dir>/<name>.log (to see why a run went wrong).
  const file = process.env.BENCH_LOG_DIR
    ? createWriteStream(join(process.env.BENCH_LOG_DIR, `${name}.log`), { flags: 'a' })
    : null;
  const keep = (line: string) => {
    c.tail.push(line);
    if (c.tail.length > 50) c.tail.shift();
    file?.write(`${line}\n`);
    opts.onLine?.(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  const killChild = () => void child.kill('SIGKILL');
  process.once('exit', killChild);
  cleanups.push(name, async () => {
    c.stopping = true;
    process.off('exit', killChild);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return c;
}

export const quantile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export const BENCH_REGION = 'cn-hongkong';
export const BENCH_ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

export interface BenchEnv {
  databaseUrl: string;
  dbName: string;
  apiUrl: string;
  simUrl: string;
  simPort: number;
  adminKey: string;
  /** The environment of the api, worker and ecs-sim (overrides applied). */
  env: Record<string, string>;
}

/**
 * What a bench's stack runs on: its own database, Redis key prefix, data directory and free ports,
 * each removed by `cleanups`; the environment for its api, worker and ecs-sim (production mode,
 * simulator cloud, the three Hong Kong zones), with `overrides` applied last.
 */
export async function benchEnv(
  tag: string,
  cleanups: Cleanups,
  overrides: Record<string, string>,
): Promise<BenchEnv> {
  const db = await createTestDatabase(tag);
  cleanups.push('database', () => db.drop());
  const [apiPort, simPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), `snowline-${tag.replace(/_/g, '-')}-`));
  cleanups.push('data dir', () =>
    Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  );
  const prefix = `snowline-${tag.replace(/_/g, '-')}-${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  cleanups.push('queue keys', async () => {
    const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  const adminKey = `sl_admin_bench_${randomBytes(18).toString('base64url')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    ECS_SIM_HOST: '127.0.0.1',
    ECS_SIM_PORT: String(simPort),
    CLOUD_PROVIDER: 'sim',
    CLOUD_REGION: BENCH_REGION,
    CLOUD_ZONES: BENCH_ZONES.join(','),
    SNOWLINE_DATA_DIR: dataDir,
    SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
    SNOWLINE_ADMIN_KEY: adminKey,
    ...overrides,
  };
  return {
    databaseUrl: db.url,
    dbName: new URL(db.url).pathname.slice(1),
    apiUrl: `http://127.0.0.1:${apiPort}`,
    simUrl: `http://127.0.0.1:${simPort}`,
    simPort,
    adminKey,
    env,
  };
}
