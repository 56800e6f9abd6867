import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credentials {
  url: string;
  key: string;
}

/** `$XDG_CONFIG_HOME/snowline/config.json` (default `~/.config/snowline/config.json`). */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'snowline', 'config.json');
}

export function saveCredentials(env: NodeJS.ProcessEnv, creds: Credentials): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600); // also when the file existed with looser bits
  return path;
}

/** SNOWLINE_URL / SNOWLINE_API_KEY override what `snowline login` saved. */
export function loadCredentials(env: NodeJS.ProcessEnv): Partial<Credentials> {
  let saved: Partial<Credentials> = {};
  try {
    saved = JSON.parse(readFileSync(configPath(env), 'utf8')) as Partial<Credentials>;
  } catch {
    saved = {};
  }
  return {
    url: (env.SNOWLINE_URL || saved.url || '').replace(/\/+$/, '') || undefined,
    key: env.SNOWLINE_API_KEY || saved.key || undefined,
  };
}
