import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HostEntity, Repositories } from '@snowline/persistence';
import { RetentionLoop } from '../../apps/worker/src/retention/retention-loop.service';
import { migratedDatabase } from '../support/db';

type N = { n: number }[];

/**
 * Retention against Postgres, by its clock: events and finished deliveries past EVENTS_RETENTION_DAYS
 * go, recent ones, pending deliveries and events the webhook fan-out has not passed stay; deleted
 * hosts past HOST_HISTORY_RETENTION_DAYS go, live ones, recent ones, a validator's current host, a
 * running failover's and a recently leased one stay; no statement deletes more than its batch.
 */
describe(RetentionLoop.name, () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let loop: RetentionLoop;
  let projectId: string;

  beforeAll(async () => {
    let config;
    ({ db, ds, config } = await migratedDatabase('retention', {
      EVENTS_RETENTION_DAYS: '30',
      HOST_HISTORY_RETENTION_DAYS: '7',
    }));
    repos = new Repositories(ds);
    loop = new RetentionLoop(repos, config);
    projectId = (await repos.projects.create('default', true)).id;
  });
  afterAll(async () => {
    await loop?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  const count = async (sql: string, args: unknown[] = []) =>
    ((await ds.query(sql, args)) as N)[0]!.n;
  /** `n` events of `type`, created `daysAgo` days ago by the database's clock. */
  const events = (type: string, n: number, daysAgo: number) =>
    ds.query(
      `INSERT INTO events (type, message, created_at)
       SELECT $1, 'test', now() - make_interval(days => $3) FROM generate_series(1, $2)`,
      [type, n, daysAgo],
    );
  const host = (over: Partial<HostEntity>) =>
    ds.manager.save(
      HostEntity,
      ds.manager.create(HostEntity, {
        role: 'assigned',
        zone: 'cn-hongkong-b',
        instanceType: 'ecs.g7.2xlarge',
        clientToken: randomUUID(),
        instanceId: `i-${randomUUID().slice(0, 12)}`,
        health: 'unhealthy',
        ...over,
      } as Partial<HostEntity>),
    );
  const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);

  it('should delete old events in bounded batches and keep recent ones', async () => {
    await events('test.old', 25, 40);
    await events('test.recent', 5, 29);
    await ds.query(
      `UPDATE event_cursors SET tx_id = pg_current_xact_id(), event_id = (SELECT max(id) FROM events)`,
    );
    const first = await loop.sweep(10, 2);
    expect(first).toMatchObject({ events: 20, backlog: true });
    const second = await loop.sweep(10, 2);
    expect(second).toMatchObject({ events: 5, backlog: false });
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE type = 'test.old'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE type = 'test.recent'`)).toBe(5);
  });

  it('should keep old events the webhook fan-out has not passed', async () => {
    await events('test.unsent', 3, 40);
    const r = await loop.sweep(100, 4);
    expect(r.events).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE type = 'test.unsent'`)).toBe(3);
    await ds.query(
      `UPDATE event_cursors SET tx_id = pg_current_xact_id(), event_id = (SELECT max(id) FROM events)`,
    );
    expect((await loop.sweep(100, 4)).events).toBe(3);
  });

  it('should delete old finished deliveries and keep pending and recent ones', async () => {
    const [w] = (await ds.query(
      `INSERT INTO webhooks (project_id, url, secret_sealed, secret_prefix)
       VALUES ($1, 'https://example.com/hook', '\\x00', 'whsec') RETURNING id`,
      [projectId],
    )) as { id: string }[];
    const deliveries = (status: string, d: number, n: number) =>
      ds.query(
        `INSERT INTO webhook_deliveries (webhook_id, project_id, event_type, payload, status, created_at)
         SELECT $1, $2, 'test', '{}', $3, now() - make_interval(days => $4) FROM generate_series(1, $5)`,
        [w!.id, projectId, status, d, n],
      );
    await deliveries('succeeded', 40, 4);
    await deliveries('failed', 40, 2);
    await deliveries('pending', 40, 1);
    await deliveries('succeeded', 1, 3);
    expect((await loop.sweep(5, 1)).webhookDeliveries).toBe(5);
    expect((await loop.sweep(5, 1)).webhookDeliveries).toBe(1);
    const left = (await ds.query(
      `SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`,
    )) as { status: string; n: number }[];
    expect(left).toEqual([
      { status: 'pending', n: 1 },
      { status: 'succeeded', n: 3 },
    ]);
  });

  it('should delete old deleted hosts and keep live, recent, current and needed ones', async () => {
    const identity = await repos.identities.insert({
      projectId,
      nodeId: 'NodeID-retention',
      blsPublicKey: '0x00',
      proofOfPossession: '0x00',
      wrappedDataKey: Buffer.from('w'),
      sealedKeys: Buffer.from('s'),
      masterKeyId: 'k',
      imported: false,
    });
    const v = await repos.validators.insert({
      projectId,
      name: 'retention',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'retired',
      identityId: identity.id,
      nodeId: identity.nodeId,
      generation: 3,
    });
    const old = {
      validatorId: v.id,
      projectId,
      deletedAt: daysAgo(10),
      leaseExpiresAt: daysAgo(10),
    };
    const gone = await Promise.all([1, 2, 3].map((g) => host({ ...old, generation: g })));
    const neverLaunched = await host({ ...old, instanceId: null, leaseExpiresAt: null });
    const kept = {
      live: await host({ validatorId: v.id, leaseExpiresAt: daysAgo(10) }),
      recentlyDeleted: await host({ ...old, deletedAt: daysAgo(6) }),
      recentLease: await host({ ...old, leaseExpiresAt: daysAgo(1) }),
      current: await host({ ...old, generation: 3 }),
      inFailover: await host({ ...old }),
    };
    await repos.validators.update(v.id, { hostId: kept.current.id });
    await ds.query(
      `INSERT INTO failovers (validator_id, project_id, from_host_id, generation, reason, method)
       VALUES ($1, $2, $3, 3, 'test', 'launch')`,
      [v.id, projectId, kept.inFailover.id],
    );

    expect((await loop.sweep(2, 1)).hosts).toBe(2);
    expect((await loop.sweep(2, 1)).hosts).toBe(2);
    expect((await loop.sweep(2, 1)).hosts).toBe(0);
    const left = ((await ds.query(`SELECT id FROM hosts`)) as { id: string }[]).map((r) => r.id);
    expect(left.sort()).toEqual(
      Object.values(kept)
        .map((h) => h.id)
        .sort(),
    );
    for (const h of [...gone, neverLaunched]) expect(left).not.toContain(h.id);
  });

  it('should delete old launch batches once no host names them', async () => {
    const batch = (d: number) =>
      ds.query(
        `INSERT INTO launch_batches (id, zone, instance_type, size, created_at)
         VALUES ($1, 'cn-hongkong-b', 'ecs.g7.2xlarge', 1, now() - make_interval(days => $2))`,
        [randomUUID(), d],
      );
    await batch(10);
    await batch(1);
    const named = randomUUID();
    await ds.query(
      `INSERT INTO launch_batches (id, zone, instance_type, size, created_at)
       VALUES ($1, 'cn-hongkong-b', 'ecs.g7.2xlarge', 1, now() - interval '10 days')`,
      [named],
    );
    await host({ batchId: named, batchIndex: 0 });
    expect((await loop.sweep(100, 1)).launchBatches).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM launch_batches`)).toBe(2);
  });
});
