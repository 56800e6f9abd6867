import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming';
import { PG_TYPES } from './pg-types';

export interface DataSourceOptions {
  poolSize?: number;
  /**
   * Postgres ends a session idle inside a transaction after this (a worker frozen mid-transaction
   * would otherwise hold its row locks for ever); TCP keepalive ends one whose peer vanished.
   */
  stuckSessionMs?: number;
}

export function createDataSource(url: string, opts: DataSourceOptions = {}): DataSource {
  const stuck = opts.stuckSessionMs
    ? { options: `-c idle_in_transaction_session_timeout=${Math.round(opts.stuckSessionMs)}` }
    : {};
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      types: PG_TYPES,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...stuck,
    },
  });
}

/** Creates the database named in the URL when it does not exist yet; true when this call made it. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    return await client
      .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
      .then(() => true)
      .catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
        return false;
      });
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  u.pathname = '/postgres';
  const client = new Client({ connectionString: u.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

const MIGRATION_LOCK = 7_240_001;

/** Runs pending migrations under an advisory lock, so api and worker can both start at once. */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Ensure the database exists, connect, migrate. The one entry point every process uses; `log`
 * gets one line for a database it created and one for the migrations it applied (or none pending).
 */
export async function openDatabase(
  url: string,
  opts: DataSourceOptions & { log?: (line: string) => void } = {},
): Promise<DataSource> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (await ensureDatabase(url)) opts.log?.(`Created database ${name}`);
  const ds = createDataSource(url, opts);
  await ds.initialize();
  const applied = await runMigrations(ds);
  // One line however many: a fresh database names its first and last migration, not all of them.
  const names = applied.length > 2 ? `${applied[0]} … ${applied.at(-1)}` : applied.join(', ');
  opts.log?.(
    applied.length
      ? `Database ${name}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'} (${names})`
      : `Database ${name}: schema up to date (no pending migrations)`,
  );
  return ds;
}
