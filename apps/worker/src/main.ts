import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { loadConfigOrExit } from '@snowline/config';
import { preflight } from '../../../scripts/preflight';
import { WorkerModule } from './worker.module';

async function main() {
  const config = loadConfigOrExit();
  await preflight(config);
  const log = new Logger('worker');
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, (m) => log.warn(m)),
    { bufferLogs: true },
  );
  app.useLogger(app.get(PinoLogger)); // JSON lines (pino), as the API's; flushes what was buffered
  app.enableShutdownHooks();
  log.log(`Snowline worker started (cloud: ${config.cloud.provider} at ${config.cloud.endpoint})`);
}

main().catch((err: unknown) => {
  process.stderr.write(`snowline worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
