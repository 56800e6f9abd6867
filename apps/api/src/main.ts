import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfigOrExit } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { preflight } from '../../../scripts/preflight';
import { ensureDefaultProject } from './bootstrap/default-project';
import { createApp } from './create-app';

async function main() {
  const config = loadConfigOrExit();
  await preflight(config);
  const app = await createApp(config);
  const log = new Logger('api');
  const boot = await ensureDefaultProject(app.get(Repositories), config);
  if (boot.generatedKey) {
    // A plain banner on the terminal, not a log record: shown once, and kept out of log pipelines.
    process.stdout.write(
      `\nCreated the default project and its admin API key (shown once; also in ${boot.keyFile}, mode 0600):\n\n    ${boot.generatedKey}\n\n`,
    );
    log.log(`Admin API key generated into ${boot.keyFile}`);
  } else if (boot.keyFile) {
    log.log(`Admin API key: see ${boot.keyFile}`);
  }
  await app.listen(config.api.port, config.api.host);
  log.log(`Snowline API listening on http://${config.api.host}:${config.api.port} (docs at /docs)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`snowline api: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
