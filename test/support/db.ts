import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { loadConfig, type AppConfig } from '@snowline/config';
import { createDataSource, runMigrations } from '@snowline/persistence';
import { createTestDatabase } from '../../scripts/support/db';

export * from '../../scripts/support/db';

/** The simulator's three zones, the ones the integration suites place hosts in. */
export const TEST_ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

/**
 * A suite's own database, migrated, with a DataSource on it and the config the suite runs with
 * (test mode, a fresh master key, the three zones, then `env`). Drop it with `db.drop()`.
 */
export async function migratedDatabase(
  tag: string,
  env: Record<string, string> = {},
): Promise<{ db: { url: string; drop: () => Promise<void> }; ds: DataSource; config: AppConfig }> {
  const db = await createTestDatabase(tag);
  const ds = createDataSource(db.url);
  await ds.initialize();
  await runMigrations(ds);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
    CLOUD_ZONES: TEST_ZONES.join(','),
    ...env,
  });
  return { db, ds, config };
}
