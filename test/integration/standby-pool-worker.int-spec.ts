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
      // One launch per standby here; batched refills: batch-launch-worker.int-spec.ts.
      batching: () => false,
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
        /^Deleted surplus standby i-\S+ \(fuji, 1\.15\.3\) in cn-hongkong-c: the pool was made smaller$/,
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

  it('should keep a pool per version validators run or ask for, and drop an unused one once replaced', async () => {
    const repos = new Repositories(ds);
    const byVersion = async () =>
      (
        (await ds.query(
          `SELECT zone, coalesce(avalanchego_version, '-') AS v, count(*)::int AS n FROM hosts
            WHERE role = 'standby' AND deleted_at IS NULL AND network = 'fuji'
            GROUP BY 1, 2 ORDER BY 1, 2`,
        )) as { zone: string; v: string; n: number }[]
      ).map((r) => `${r.zone}:${r.v}=${r.n}`);
    const project = await repos.projects.create('versions');
    // A validator that runs 1.15.3 (its host says so) and is asked to run 1.16.0.
    const [{ id: vid }] = (await ds.query(
      `INSERT INTO validators (project_id, name, network, instance_type, state, avalanchego_version)
       VALUES ($1, 'rolling', 'fuji', 'ecs.g7.2xlarge', 'pending', '1.16.0') RETURNING id`,
      [project.id],
    )) as { id: string }[];
    const [{ id: hid }] = (await ds.query(
      `INSERT INTO hosts (role, validator_id, zone, instance_type, client_token, running_version, generation)
       VALUES ('assigned', $1, 'cn-hongkong-b', 'ecs.g7.2xlarge', 'sl-rolling', '1.15.3', 1) RETURNING id`,
      [vid],
    )) as { id: string }[];
    await ds.query(`UPDATE validators SET host_id = $2, zone = 'cn-hongkong-b' WHERE id = $1`, [
      vid,
      hid,
    ]);

    // Both versions get a standby per zone: the target first, the one it runs for its failovers.
    expect(await pool.refill(ZONES)).toBe(3);
    expect(await byVersion()).toEqual([
      'cn-hongkong-b:1.15.3=1',
      'cn-hongkong-b:1.16.0=1',
      'cn-hongkong-c:1.15.3=1',
      'cn-hongkong-c:1.16.0=1',
      'cn-hongkong-d:1.15.3=1',
      'cn-hongkong-d:1.16.0=1',
    ]);

    // It moved: now it runs 1.16.0, and nobody runs or asks for 1.15.3.
    await ds.query(`UPDATE hosts SET running_version = '1.16.0' WHERE id = $1`, [hid]);
    deleted.length = 0;
    // The 1.16.0 standbys are not synced yet: the 1.15.3 ones stay, so no zone is left without one.
    expect(await pool.refill(ZONES)).toBe(0);
    expect(deleted).toEqual([]);
    // Once they are synced, the 1.15.3 ones go.
    await ds.query(
      `UPDATE hosts SET instance_id = coalesce(instance_id, 'i-' || left(id::text, 8)), health = 'healthy',
                        last_report = '{"bootstrapped": true}'
        WHERE role = 'standby' AND avalanchego_version = '1.16.0'`,
    );
    expect(await pool.refill(ZONES)).toBe(0);
    expect(await byVersion()).toEqual([
      'cn-hongkong-b:1.16.0=1',
      'cn-hongkong-c:1.16.0=1',
      'cn-hongkong-d:1.16.0=1',
    ]);
    // Each with an event saying why; those that had an instance deleted in the cloud too.
    const why = (await ds.query(
      `SELECT message FROM events WHERE type = 'standby.trimmed' AND message LIKE '%, 1.15.3)%'
        AND message LIKE '%no validator%'`,
    )) as { message: string }[];
    expect(why).toHaveLength(3);
    for (const w of why) expect(w.message).toMatch(/: no validator runs or asks for 1\.15\.3$/);
    expect(deleted.flat().length).toBeGreaterThan(0);
  });

  it('should keep a pool per L1 its validators validate, and hand an L1 validator only its L1’s standby', async () => {
    const repos = new Repositories(ds);
    const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
    const bySubnet = async () =>
      (
        (await ds.query(
          `SELECT zone, coalesce(subnet_id, 'primary') AS s, avalanchego_version AS v,
                  count(*)::int AS n
             FROM hosts WHERE role = 'standby' AND deleted_at IS NULL AND network = 'fuji'
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        )) as { zone: string; s: string; v: string; n: number }[]
      ).map((r) => `${r.zone}:${r.s === L1 ? 'L1' : r.s}:${r.v}=${r.n}`);
    const project = await repos.projects.create('l1');
    const [{ id: vid }] = (await ds.query(
      `INSERT INTO validators (project_id, name, network, instance_type, state, avalanchego_version, subnet_id)
       VALUES ($1, 'l1-v', 'fuji', 'ecs.g7.2xlarge', 'pending', '1.16.0', $2) RETURNING id`,
      [project.id, L1],
    )) as { id: string }[];

    // Its L1 gets a pool of its own in every zone, at the network's size (1), tracking the L1.
    expect(await pool.refill(ZONES)).toBe(3);
    expect(await bySubnet()).toEqual([
      'cn-hongkong-b:L1:1.16.0=1',
      'cn-hongkong-b:primary:1.16.0=1',
      'cn-hongkong-c:L1:1.16.0=1',
      'cn-hongkong-c:primary:1.16.0=1',
      'cn-hongkong-d:L1:1.16.0=1',
      'cn-hongkong-d:primary:1.16.0=1',
    ]);
    expect(await pool.refill(ZONES)).toBe(0);

    // A failover takes a synced standby tracking the validator's L1, never a primary-network one.
    await ds.query(
      `UPDATE hosts SET instance_id = coalesce(instance_id, 'i-' || left(id::text, 8)), health = 'healthy',
                        last_report = '{"bootstrapped": true}'
        WHERE role = 'standby' AND deleted_at IS NULL`,
    );
    const take = (subnetId: string | null, zones = ZONES) =>
      repos.transaction(async (tx) => {
        const s = await repos.hosts.takeSyncedStandby('fuji', zones, tx, {
          version: '1.16.0',
          subnetId,
        });
        if (!s) return null;
        const [row] = (await ds.query(`SELECT subnet_id FROM hosts WHERE id = $1`, [s.id])) as {
          subnet_id: string | null;
        }[];
        return row!.subnet_id;
      });
    expect(await take(L1)).toBe(L1);
    expect(await take(null)).toBeNull();
    expect(await take('11111111111111111111111111111111LpoYY')).toBeNull(); // no such pool: none
    await ds.query(
      `UPDATE hosts SET health = 'unhealthy' WHERE role = 'standby' AND subnet_id IS NOT NULL`,
    );
    // Without one, nothing: the failover then launches a host whose UserData tracks the L1.
    expect(
      await repos.transaction((tx) =>
        repos.hosts.takeSyncedStandby('fuji', ZONES, tx, { version: '1.16.0', subnetId: L1 }),
      ),
    ).toBeUndefined();
    await ds.query(
      `UPDATE hosts SET health = 'healthy' WHERE role = 'standby' AND subnet_id IS NOT NULL`,
    );

    // Nobody validates the L1 any more: its pool goes (the primary pool is synced at full size).
    await ds.query(`UPDATE validators SET state = 'retiring' WHERE id = $1`, [vid]);
    deleted.length = 0;
    expect(await pool.refill(ZONES)).toBe(0);
    expect((await bySubnet()).filter((r) => r.includes(':L1:'))).toEqual([]);
    const why = (await ds.query(
      `SELECT message FROM events WHERE type = 'standby.trimmed' AND message LIKE '%L1 ${L1})%'`,
    )) as { message: string }[];
    expect(why.length).toBeGreaterThan(0);
    for (const w of why)
      expect(w.message).toMatch(
        new RegExp(
          `\\(fuji, 1\\.16\\.0, L1 ${L1}\\) in \\S+: no validator validates L1 ${L1} on fuji any more$`,
        ),
      );
  });
});
