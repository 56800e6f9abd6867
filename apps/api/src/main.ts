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
    log.log(
      `Created the default project and an admin API key (shown once; also in ${boot.keyFile}, mode 0600):\n\n    ${boot.generatedKey}\n`,
    );
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
