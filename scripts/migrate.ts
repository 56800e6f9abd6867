import { loadConfigOrExit } from '@snowline/config';
import { createDataSource, ensureDatabase, runMigrations } from '@snowline/persistence';

/** `npm run migration:run` (up: every pending migration) / `npm run migration:revert` (down: the last one). */
async function main() {
  const direction = process.argv[2] === 'down' ? 'down' : 'up';
  const config = loadConfigOrExit();
  if (await ensureDatabase(config.databaseUrl))
    process.stdout.write(`created database ${new URL(config.databaseUrl).pathname.slice(1)}\n`);
  const ds = createDataSource(config.databaseUrl);
  await ds.initialize();
  try {
    if (direction === 'up') {
      const done = await runMigrations(ds);
      process.stdout.write(done.length ? `applied: ${done.join(', ')}\n` : 'nothing to apply\n');
    } else {
      await ds.undoLastMigration({ transaction: 'each' });
      process.stdout.write('reverted the last migration\n');
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`snowline migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
