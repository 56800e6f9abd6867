import { createHmac, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from './config';

/**
 * The master key that wraps every staking identity's data key. From SNOWLINE_MASTER_KEY, else from
 * `<dataDir>/master-key`, created when missing (mode 0600). The api and the worker start at once on a
 * fresh data dir: the key is written whole to a file of this process's own and then hard-linked into
 * place, which fails if the other got there first, so neither can read a half-written key and both
 * use the same one.
 */
export function loadOrCreateMasterKey(
  config: AppConfig,
  warn: (msg: string) => void = () => {},
): Buffer {
  if (config.masterKey) return config.masterKey;
  const file = join(config.dataDir, 'master-key');
  const read = () => {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    linkSync(tmp, file);
    warn(
      `SNOWLINE_MASTER_KEY is not set: generated a master key into ${file}. Back it up; without it the staking keys cannot be decrypted.`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  return read();
}

/** Log fields that may hold a secret: every process's logger (pino) censors them. */
export const LOG_SECRET_PATHS = ['*.authorization', '*.secret', '*.key'];

/** A purpose-bound key derived from the master key (HMAC), so the master key itself is used only to wrap. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masterKey).update(`snowline:${purpose}`).digest();
}
