/**
 * `npm run ha`: the replicated control plane on this machine — the simulator, two APIs and two
 * workers on one database (its own, on the local Postgres) and one Redis prefix, sharing one master
 * key, with a round-robin proxy in front of the APIs that the agents use. Prints the URLs; Ctrl-C
 * (or HA_SECONDS, default 3600) stops everything and drops the database. Loopback only.
 * `HA_PRIVATE=true` runs a private Postgres and Redis (own ports, temp dir) instead of the shared ones.
 */
import { startHaStack, type HaStack } from './support/ha-stack';

const SECONDS = Number(process.env.HA_SECONDS ?? 3600);

async function main() {
  const stack: HaStack = await startHaStack(
    'cli',
    { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    {
      privateServices: process.env.HA_PRIVATE === 'true',
    },
  );
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('[ha] stopping\n');
    await stack.stop().catch(() => undefined);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));
  for (const [name, p] of Object.entries(stack.procs))
    p.once('exit', (code, sig) => {
      if (!stopping) process.stderr.write(`[ha] ${name} exited (${code ?? sig})\n`);
    });
  process.stdout.write(
    `${JSON.stringify({
      api: stack.apiUrl,
      api_1: stack.apiUrls['api-1'],
      api_2: stack.apiUrls['api-2'],
      sim: stack.simUrl,
      database: stack.databaseUrl,
      admin_key: stack.adminKey,
      pids: Object.fromEntries(Object.entries(stack.procs).map(([n, p]) => [n, p.pid])),
    })}\n`,
  );
  process.stderr.write(`[ha] up; Ctrl-C stops (or after ${SECONDS} s)\n`);
  setTimeout(() => void stop(0), SECONDS * 1000).unref();
  setInterval(() => undefined, 60_000); // keep the event loop alive until stopped
}

main().catch((err: unknown) => {
  process.stderr.write(`ha failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
