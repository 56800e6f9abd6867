import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import IORedis from 'ioredis';
import type { DestinationStream } from 'pino';
import { loadConfig, type AppConfig } from '@snowline/config';
import { IdentityVault, Repositories } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { ensureDefaultProject } from '../../apps/api/src/bootstrap/default-project';
import { createApp } from '../../apps/api/src/create-app';
import { MASTER_KEY } from '../../apps/api/src/identities/identity.service';
import { IdentityGeneratorService } from '../../apps/worker/src/identities/identity-generator.service';
import { createTestDatabase } from './db';

export type ApiCall = (
  path: string,
  init?: RequestInit & { json?: unknown; key?: string | null },
) => Promise<Response>;

export interface ApiApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  repos: Repositories;
  adminKey: string;
  defaultProjectId: string;
  databaseUrl: string;
  api: ApiCall;
  /** A new project (made by the operator) and a key for it with the given scopes. */
  tenant: (name: string, scopes: string[]) => Promise<{ projectId: string; key: string }>;
  stop: () => Promise<void>;
}

/**
 * The API in-process (createApp, port 0) on its own database and Redis key prefix, with the worker's
 * identity generator beside it (as a running worker would make generated identities) but no other
 * worker part and no simulator, so validators stay `pending` — enough for everything the public API
 * itself promises.
 */
export async function startApiApp(
  tag: string,
  env: Record<string, string> = {},
  opts: { logStream?: DestinationStream } = {},
): Promise<ApiApp> {
  const db = await createTestDatabase(tag);
  const dataDir = mkdtempSync(join(tmpdir(), `snowline-${tag}-`));
  const prefix = `snowline-test-${tag}-${randomBytes(4).toString('hex')}`;
  const adminKey = `sl_admin_test_${randomBytes(18).toString('base64url')}`;
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    API_PORT: '0',
    SNOWLINE_DATA_DIR: dataDir,
    SNOWLINE_ADMIN_KEY: adminKey,
    SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_RPS: '0',
    EVENTS_POLL_MS: '100',
    ...env,
  });
  const app = await createApp(config, opts);
  const repos = app.get(Repositories);
  /** Closes the app and removes everything this harness made (also when the start fails). */
  const teardown = async () => {
    await app.close();
    const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let boot: Awaited<ReturnType<typeof ensureDefaultProject>>;
  try {
    boot = await ensureDefaultProject(repos, config);
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  const generator = new IdentityGeneratorService(
    repos,
    new IdentityVault(repos, app.get<Buffer>(MASTER_KEY)),
    app.get(LifecycleQueue),
  );
  generator.onApplicationBootstrap();
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const api: ApiCall = (path, init = {}) => {
    const headers = new Headers(init.headers);
    const key = init.key === undefined ? adminKey : init.key;
    if (key !== null) headers.set('authorization', `Bearer ${key}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    const send = () =>
      fetch(`${url}${path}`, {
        ...init,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      });
    // The API runs in this (test) process: a test that blocks its event loop for seconds (a large
    // synchronous build) lets the server's keep-alive timeout and the client's next request on the
    // pooled socket race, and the request is reset before the server read it. A GET changes nothing:
    // send it once more on a fresh socket. Anything else fails as it came.
    return send().catch((err: { cause?: { code?: string } }) => {
      const method = (init.method ?? 'GET').toUpperCase();
      if (method === 'GET' && err.cause?.code === 'ECONNRESET') return send();
      throw err;
    });
  };
  const tenant: ApiApp['tenant'] = async (name, scopes) => {
    const p = await api('/v1/projects', { method: 'POST', json: { name } });
    if (p.status !== 201) throw new Error(`create project: ${p.status} ${await p.text()}`);
    const { id } = (await p.json()) as { id: string };
    const k = await api(`/v1/projects/${id}/api-keys`, {
      method: 'POST',
      json: { name: `${name} key`, scopes },
    });
    if (k.status !== 201) throw new Error(`create key: ${k.status} ${await k.text()}`);
    return { projectId: id, key: ((await k.json()) as { key: string }).key };
  };
  const stop = async () => {
    await generator.onApplicationShutdown();
    await teardown();
  };
  return {
    app,
    url,
    config,
    repos,
    adminKey,
    defaultProjectId: boot.projectId,
    databaseUrl: db.url,
    api,
    tenant,
    stop,
  };
}
