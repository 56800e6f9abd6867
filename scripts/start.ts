import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfigOrExit } from '@snowline/config';
import { preflight } from './preflight';

/** `npm start`: api + worker + ecs-sim in one command, logs prefixed, one Ctrl-C stops all. */
const COLORS: Record<string, string> = { api: '36', worker: '35', 'ecs-sim': '33' };
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const tag = (name: string) =>
  useColor ? `\x1b[${COLORS[name] ?? '0'}m[${name}]\x1b[0m` : `[${name}]`;

async function main() {
  const config = loadConfigOrExit();
  try {
    await preflight(config);
  } catch (err) {
    process.stderr.write(`snowline: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const apps = ['api', 'worker'];
  if (config.cloud.provider === 'sim') apps.unshift('ecs-sim');
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children.values()) c.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const c of children.values()) c.kill('SIGKILL');
      process.exit(code);
    }, 8000);
    force.unref();
    const check = setInterval(() => {
      if ([...children.values()].every((c) => c.exitCode !== null || c.signalCode !== null)) {
        clearInterval(check);
        process.exit(code);
      }
    }, 100);
  };

  for (const name of apps) {
    const child = spawn(process.execPath, [join(__dirname, '..', 'apps', name, 'src', 'main.js')], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.set(name, child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) =>
        process.stdout.write(`${tag(name)} ${line}\n`),
      );
    }
    child.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`${tag(name)} exited (${signal ?? code}); stopping the others\n`);
      stopAll(code || 1);
    });
  }
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  process.stdout.write(
    `snowline: starting ${apps.join(', ')} — API on http://${config.api.host}:${config.api.port} (Ctrl-C stops all)\n`,
  );
}

void main();
