import { loadConfigOrExit } from '@snowline/config';
import { startEcsSim } from './sim';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // `npm run sim -- --reset`: start from an empty region (the saved one is deleted).
  const reset = process.argv.slice(2).includes('--reset');
  const quiet =
    config.logLevel === 'silent' || config.logLevel === 'error' || config.logLevel === 'fatal';
  const sim = await startEcsSim({
    port: config.sim.port,
    host: config.sim.host,
    accessKeyId: config.sim.accessKeyId,
    accessKeySecret: config.sim.accessKeySecret,
    region: config.cloud.region,
    zones: config.cloud.zones,
    timeScale: config.sim.timeScale,
    bootstrapMs: config.sim.bootstrapSeconds * 1000,
    agentStopBudgetMs: config.agent.stopBudgetSeconds * 1000,
    rateLimits: config.sim.rateLimits,
    dataDir: config.dataDir,
    reset,
    calendar: config.avalanchego.calendar,
    brokenReleases: config.sim.brokenReleases,
    log: (msg, fields) => {
      if (quiet) return;
      process.stdout.write(
        `${JSON.stringify({ time: new Date().toISOString(), name: 'ecs-sim', msg, ...fields })}\n`,
      );
    },
  });
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), name: 'ecs-sim', msg: 'listening', url: sim.url, region: sim.state.region, zones: sim.state.zones })}\n`,
  );
  const shutdown = (signal: string): void => {
    process.stdout.write(`${JSON.stringify({ name: 'ecs-sim', msg: 'closing', signal })}\n`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `ecs-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
