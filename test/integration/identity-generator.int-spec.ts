import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { generateIdentity, nodeIdFromCertPem, type GeneratedIdentity } from '@snowline/avalanche';
import {
  createDataSource,
  IdentityVault,
  Repositories,
  runMigrations,
} from '@snowline/persistence';
import { JOBS, jobId, LifecycleQueue } from '@snowline/queue';
import {
  IDLE_POLL_MS,
  IdentityGeneratorService,
} from '../../apps/worker/src/identities/identity-generator.service';
import { createTestDatabase } from '../support/db';

/**
 * The worker's identity generator against Postgres and Redis: it finds a validator waiting for a
 * generated identity, seals and attaches the identity in a short transaction (none is open while the
 * key math runs), records the event and enqueues provisioning.
 */
describe('identity generator (worker)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let vault: IdentityVault;
  let redis: IORedis;
  let queue: LifecycleQueue;
  let pg: Client;
  let projectId: string;
  const prefix = `snowline-test-identgen-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase('identgen');
    ds = createDataSource(db.url);
    await ds.initialize();
    await runMigrations(ds);
    repos = new Repositories(ds);
    vault = new IdentityVault(repos, randomBytes(32));
    redis = new IORedis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0', {
      maxRetriesPerRequest: null,
    });
    queue = new LifecycleQueue(redis, prefix);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    projectId = (await repos.projects.create('identgen')).id;
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
    await pg?.end();
    await ds?.destroy();
    await db?.drop();
  });

  const waiting = (name: string) =>
    repos.validators.insertWithEvent(
      {
        projectId,
        name,
        network: 'fuji',
        instanceType: 'ecs.g7.xlarge',
        zones: [],
        labels: {},
        protected: false,
        identityId: null,
        nodeId: null,
        avalanchegoVersion: '1.15.3',
      },
      { type: 'validator.created', message: `Validator ${name} created`, data: {} },
    );
  const provisionJob = (validatorId: string) =>
    queue.queue.getJob(jobId(JOBS.provision, { validatorId }));

  it('should generate with no transaction open, then attach, record and enqueue', async () => {
    const svc = new IdentityGeneratorService(repos, vault, queue);
    // Hold generation until the test has looked at the database.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    type Threads = { generate(): Promise<GeneratedIdentity>; close(): Promise<void> };
    (svc as unknown as { threads: Threads }).threads = {
      generate: async () => {
        calls++;
        await held;
        return generateIdentity();
      },
      close: async () => undefined,
    };
    const v = await waiting('held-1');
    const one = svc.generateOne();
    for (let i = 0; i < 100 && calls === 0; i++) await new Promise((s) => setTimeout(s, 20));
    expect(calls).toBe(1);

    // Generation is under way: no session of this database holds a transaction (or an xid that would
    // hold back the event feed's horizon).
    const { rows } = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (state LIKE 'idle in transaction%' OR backend_xid IS NOT NULL)`,
    );
    expect(rows[0]!.n).toBe(0);

    release();
    expect(await one).toBe(true);
    const after = await repos.validators.findForProjectWithIdentity(projectId, v.id);
    expect(after!.nodeId).toMatch(/^NodeID-/);
    expect(after!.identity!.imported).toBe(false);
    // The sealed keys open under the master key and are the identity the NodeID names.
    const keys = vault.open((await repos.identities.findById(after!.identityId!))!);
    expect(nodeIdFromCertPem(keys.stakerCrt)).toBe(after!.nodeId);
    const events = await repos.events.list({ projectId, validatorId: v.id, limit: 10 });
    expect(events.map((e) => e.type)).toEqual([
      'validator.created',
      'validator.identity_generated',
    ]);
    expect(events[1]!.data).toEqual({ nodeId: after!.nodeId });
    expect(await provisionJob(v.id)).toBeDefined();
    // Nobody else waiting: the next pass does nothing.
    expect(await svc.generateOne()).toBe(false);
  }, 30_000);

  it('should keep one loop busy per waiting validator, not every loop', async () => {
    const svc = new IdentityGeneratorService(repos, vault, queue);
    const v = await waiting('one-waiting');
    // Loop 1 works only while two or more wait; loop 0 makes the one identity needed.
    expect(await svc.generateOne(1)).toBe(false);
    expect((await repos.validators.findById(v.id))!.identityId).toBeNull();
    expect(await svc.generateOne(0)).toBe(true);
    expect((await repos.validators.findById(v.id))!.identityId).not.toBeNull();
  }, 30_000);

  it('should find a new waiting validator by itself while running, and stop cleanly', async () => {
    const svc = new IdentityGeneratorService(repos, vault, queue);
    svc.onApplicationBootstrap();
    try {
      // Created after the loop went idle: found by the idle poll, with no nudge from anyone.
      await new Promise((s) => setTimeout(s, 50));
      const v = await waiting('polled-1');
      let nodeId: string | null = null;
      const deadline = Date.now() + 10 * IDLE_POLL_MS + 10_000;
      while (!nodeId && Date.now() < deadline) {
        await new Promise((s) => setTimeout(s, 50));
        nodeId = (await repos.validators.findForProjectWithIdentity(projectId, v.id))!.nodeId;
      }
      expect(nodeId).toMatch(/^NodeID-/);
      expect(await provisionJob(v.id)).toBeDefined();
      // Idle again for a few polls: each sleep is forgotten when it ends (no chain of wakers grows).
      await new Promise((s) => setTimeout(s, 3 * IDLE_POLL_MS));
      const sleepers = (svc as unknown as { sleepers: Set<unknown> }).sleepers;
      expect(sleepers.size).toBeLessThanOrEqual(1);
    } finally {
      await svc.onApplicationShutdown();
    }
  }, 30_000);
});
