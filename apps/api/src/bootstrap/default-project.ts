import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '@snowline/config';
import { Repositories, sha256Hex } from '@snowline/persistence';

export interface DefaultProject {
  projectId: string;
  /** Set only when a key was generated now: shown once, never again. */
  generatedKey?: string;
  keyFile?: string;
}

export const newApiKeySecret = (kind: 'admin' | 'key' = 'key') =>
  `sl_${kind}_${randomBytes(24).toString('base64url')}`;

/**
 * First start: a default project and an admin key (SNOWLINE_ADMIN_KEY, else generated, printed once and
 * written to <dataDir>/admin-key with mode 0600). Safe to run on every start and from several processes.
 */
export async function ensureDefaultProject(
  repos: Repositories,
  config: AppConfig,
): Promise<DefaultProject> {
  let project = await repos.projects.findDefault();
  if (!project) {
    project = await repos.projects.create('default', true).catch(async (err: unknown) => {
      const again = await repos.projects.findDefault(); // another process won the race
      if (!again) throw err;
      return again;
    });
  }
  const ensureKey = async (secret: string, name: string) => {
    if (await repos.apiKeys.findBySecretHash(sha256Hex(secret))) return;
    await repos.apiKeys
      .create({ projectId: project.id, name, scopes: ['admin'], secret })
      .catch(async (err: unknown) => {
        if (!(await repos.apiKeys.findBySecretHash(sha256Hex(secret)))) throw err;
      });
  };
  if (config.adminKey) {
    await ensureKey(config.adminKey, 'admin (SNOWLINE_ADMIN_KEY)');
    return { projectId: project.id };
  }
  const keyFile = join(config.dataDir, 'admin-key');
  if (existsSync(keyFile)) {
    await ensureKey(readFileSync(keyFile, 'utf8').trim(), 'admin (generated)');
    return { projectId: project.id, keyFile };
  }
  const secret = newApiKeySecret('admin');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(keyFile, secret + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await ensureKey(readFileSync(keyFile, 'utf8').trim(), 'admin (generated)');
    return { projectId: project.id, keyFile };
  }
  await ensureKey(secret, 'admin (generated)');
  return { projectId: project.id, generatedKey: secret, keyFile };
}
