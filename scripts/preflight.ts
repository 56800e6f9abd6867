import { Client } from 'pg';
import IORedis from 'ioredis';
import type { AppConfig } from '@snowline/config';

const HINT =
  'Start it (e.g. `docker compose up -d postgres redis`) or point DATABASE_URL / REDIS_URL at a running one.';

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Fails within ~10 s, naming what is unreachable and how to start it. */
export async function preflight(config: AppConfig, timeoutMs = 8000): Promise<void> {
  const problems: string[] = [];
  const admin = new URL(config.databaseUrl);
  admin.pathname = '/postgres';
  const pg = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: timeoutMs });
  try {
    await pg.connect();
    // A reachability probe of the server (its `postgres` database), before any repository exists.
    // eslint-disable-next-line no-restricted-syntax
    await pg.query('SELECT 1');
  } catch (err) {
    problems.push(
      `PostgreSQL is unreachable at ${redacted(config.databaseUrl)}: ${(err as Error).message}`,
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new IORedis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let firstError: Error | undefined;
  redis.on('error', (err: Error) => (firstError ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    await new Promise((r) => setTimeout(r, 50)); // ioredis emits the socket error after rejecting
    const reason = (firstError ?? (err as Error)).message;
    problems.push(`Redis is unreachable at ${redacted(config.redisUrl)}: ${reason}`);
  } finally {
    redis.disconnect();
  }
  if (problems.length) throw new Error(`${problems.join('\n')}\n${HINT}`);
}
