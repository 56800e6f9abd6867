import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { CloudProvider } from '@snowline/cloud';
import { loadConfig, type AppConfig } from '@snowline/config';
import {
  createDataSource,
  Repositories,
  runMigrations,
  StandbyPoolRepository,
} from '@snowline/persistence';
import type { LifecycleQueue } from '@snowline/queue';
import type { ProvisionService } from '../../apps/worker/src/lifecycle/provision.service';
import { StandbyPoolService } from '../../apps/worker/src/standby/standby-pool.service';
import { createTestDatabase } from '../support/db';

/**
 * The worker's standby pool against Postgres: the admin setting (standby_pool_sizes) overrides
 * STANDBY_POOL per (network, zone); a smaller pool deletes its surplus standbys.
 */
describe(StandbyPoolService.name, () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let pool: StandbyPoolService;
  let settings: StandbyPoolRepository;
  const deleted: string[][] = [];
  const launched: string[] = [];
  const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

  const standbys = async () =>
    (
      (await ds.query(
        `SELECT network, zone, count(*)::int AS n FROM hosts
          WHERE role = 'standby' AND deleted_at IS NULL GROUP BY network, zone ORDER BY 1, 2`,
      )) as { network: string; zone: string; n: number }[]
    ).map((r) => `${r.network}/${r.zone}=${r.n}`);

  beforeAll(async () => {
    db = await createTestDatabase('standby-pool');
    ds = createDataSource(db.url);
    await ds.initialize();
    await runMigrations(ds);
    const config: AppConfig = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
      STANDBY_POOL: 'fuji=1',
      CLOUD_ZONES: ZONES.join(','),
    });
    // Fakes of our own ports: the cloud records deletes, the queue records launches.
    const cloud = {
      delete: (ids: string[]) => {
        deleted.push(ids);
        return Promise.resolve();
      },
    } as unknown as CloudProvider;
    const queue = {
      launchStandby: (id: string) => {
        launched.push(id);
        return Promise.resolve();
      },
    } as unknown as LifecycleQueue;
    const provision = {
      newBootstrapToken: (id: string) => ({
        bootstrapTokenHash: `hash-${id}`,
        bootstrapTokenSealed: Buffer.from(id),
        agentProtocol: 2 as const,
      }),
    } as unknown as ProvisionService;
    pool = new StandbyPoolService(new Repositories(ds), cloud, queue, provision, config);
    settings = new StandbyPoolRepository(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('should keep STANDBY_POOL in every open zone while there is no setting', async () => {
    expect(await pool.refill(ZONES.slice(0, 2))).toBe(2);
    expect(await standbys()).toEqual(['fuji/cn-hongkong-b=1', 'fuji/cn-hongkong-c=1']);
    expect(launched).toHaveLength(2);
  });

  it('should follow the stored setting where it names a size, the default elsewhere', async () => {
    // The standbys launched: give them instances, so a trim has something to delete.
    await ds.query(
      `UPDATE hosts SET instance_id = 'i-' || left(id::text, 8) WHERE role = 'standby'`,
    );
    await settings.replace(
      [
        { network: 'fuji', zone: 'cn-hongkong-b', size: 3 },
        { network: 'fuji', zone: 'cn-hongkong-c', size: 0 },
        { network: 'mainnet', zone: 'cn-hongkong-c', size: 1 },
      ],
      'key test',
    );
    const sizes = await pool.sizes();
    expect(Object.fromEntries(sizes.get('fuji')!)).toEqual({
      'cn-hongkong-b': 3,
      'cn-hongkong-c': 0,
      'cn-hongkong-d': 1,
    });
    expect(Object.fromEntries(sizes.get('mainnet')!)).toEqual({
      'cn-hongkong-b': 0,
      'cn-hongkong-c': 1,
      'cn-hongkong-d': 0,
    });

    expect(await pool.refill(ZONES)).toBe(4); // fuji/b +2, fuji/d +1, mainnet/c +1
    expect(await standbys()).toEqual([
      'fuji/cn-hongkong-b=3',
      'fuji/cn-hongkong-d=1',
      'mainnet/cn-hongkong-c=1',
    ]);
    // fuji/c went to 0: its standby is fenced, deleted in Postgres and in the cloud, with an event.
    expect(deleted).toEqual([[expect.stringMatching(/^i-/)]]);
    const [trimmed] = (await ds.query(
      `SELECT fenced, deleted_at IS NOT NULL AS gone FROM hosts WHERE zone = 'cn-hongkong-c' AND network = 'fuji'`,
    )) as { fenced: boolean; gone: boolean }[];
    expect(trimmed).toEqual({ fenced: true, gone: true });
    const events = (await ds.query(
      `SELECT message FROM events WHERE type = 'standby.trimmed'`,
    )) as {
      message: string;
    }[];
    expect(events.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Deleted surplus standby i-\S+ \(fuji\) in cn-hongkong-c: the pool was made smaller$/,
      ),
    ]);
  });

  it('should leave a pool alone once it matches, and go back to the default when the setting is dropped', async () => {
    expect(await pool.refill(ZONES)).toBe(0);
    await settings.replace([], 'key test');
    expect(await pool.refill(ZONES)).toBe(1); // fuji/c back to 1
    expect(await standbys()).toEqual([
      'fuji/cn-hongkong-b=1',
      'fuji/cn-hongkong-c=1',
      'fuji/cn-hongkong-d=1',
    ]);
  });
});
