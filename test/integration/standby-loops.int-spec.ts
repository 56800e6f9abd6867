import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig, type AppConfig } from '@snowline/config';
import { createDataSource, Repositories, runMigrations } from '@snowline/persistence';
import { ReaperLoop } from '../../apps/worker/src/standby/reaper-loop.service';
import type { ReaperService } from '../../apps/worker/src/standby/reaper.service';
import type { StandbyPoolService } from '../../apps/worker/src/standby/standby-pool.service';
import { StandbyRefillLoop } from '../../apps/worker/src/standby/standby-refill-loop.service';
import { createTestDatabase } from '../support/db';

/**
 * The standby refill and reaper loops against Postgres: refill acts on what health detection
 * recorded (zones, the control-plane-suspect incident, the sweeper's last round), and the reaper
 * loop reaps every round and lists orphans every twelfth. The pool and reaper services — whose rules
 * their own specs test — are fakes that record their calls.
 */
describe('standby loops', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let config: AppConfig;
  const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

  beforeAll(async () => {
    db = await createTestDatabase('standby-loops');
    ds = createDataSource(db.url);
    await ds.initialize();
    await runMigrations(ds);
    config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      SNOWLINE_MASTER_KEY: randomBytes(32).toString('base64'),
      CLOUD_ZONES: ZONES.join(','),
      SWEEP_INTERVAL_SECONDS: '5',
    });
    repos = new Repositories(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  describe(StandbyRefillLoop.name, () => {
    const refills: string[][] = [];
    let loop: StandbyRefillLoop;
    beforeAll(() => {
      const pool = {
        refill: (zones: string[]) => {
          refills.push(zones);
          return Promise.resolve(zones.length);
        },
      } as unknown as StandbyPoolService;
      loop = new StandbyRefillLoop(repos, pool, config);
    });
    afterAll(() => loop.onApplicationShutdown());

    const zone = (id: string, status: string) =>
      ds.query(
        `INSERT INTO zones (id, status, placement_allowed) VALUES ($1, $2, $2 = 'healthy')
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status`,
        [id, status],
      );

    it('should refill nothing before health detection has recorded a sweep', async () => {
      expect(await loop.tick()).toEqual({
        openZones: null,
        created: 0,
        heldBecause: 'no recent sweep',
      });
      expect(refills).toEqual([]);
    });

    it('should refill the configured zones the last sweep judged healthy', async () => {
      await repos.controlLoops.record('sweeper', { startedAt: new Date().toISOString() });
      await zone('cn-hongkong-b', 'healthy');
      await zone('cn-hongkong-c', 'impaired');
      await zone('cn-hongkong-d', 'healthy');
      await zone('cn-hongkong-x', 'healthy'); // not configured any more
      expect(await loop.tick()).toEqual({
        openZones: ['cn-hongkong-b', 'cn-hongkong-d'],
        created: 2,
        heldBecause: null,
      });
      expect(refills).toEqual([['cn-hongkong-b', 'cn-hongkong-d']]);
    });

    it('should hold off while Snowline suspects itself', async () => {
      await ds.query(
        `INSERT INTO incidents (zone, kind, severity, summary)
         VALUES (NULL, 'control-plane-suspect', 'critical', 'every zone looks down')`,
      );
      const before = refills.length;
      expect(await loop.tick()).toEqual(
        expect.objectContaining({ heldBecause: 'suspecting the control plane' }),
      );
      expect(refills.length).toBe(before);
      await repos.incidents.close('control-plane-suspect', null);
      expect(await loop.tick()).toEqual(expect.objectContaining({ heldBecause: null }));
    });

    it('should hold off when the last sweep is older than three intervals', async () => {
      await ds.query(
        `UPDATE control_loops SET updated_at = now() - interval '16 seconds' WHERE name = 'sweeper'`,
      );
      const before = refills.length;
      expect(await loop.tick()).toEqual(
        expect.objectContaining({ heldBecause: 'no recent sweep' }),
      );
      expect(refills.length).toBe(before);
    });
  });

  describe(ReaperLoop.name, () => {
    const fakeReaper = (calls: string[]) =>
      ({
        run: () => {
          calls.push('run');
          return Promise.resolve(1);
        },
        orphans: () => {
          calls.push('orphans');
          return Promise.resolve({ adopted: 0, deleted: 0 });
        },
      }) as unknown as ReaperService;

    it('should reap every round and list orphans on the first and every twelfth round', async () => {
      const calls: string[] = [];
      const loop = new ReaperLoop(repos, fakeReaper(calls), config);
      try {
        const rounds = [];
        for (let i = 0; i < 13; i++) rounds.push(await loop.tick());
        expect(calls.filter((c) => c === 'run')).toHaveLength(13);
        expect(rounds.flatMap((r, i) => (r?.orphans ? [i] : []))).toEqual([0, 12]);
        expect(rounds[0]).toEqual({ reaped: 1, orphans: { adopted: 0, deleted: 0 } });
      } finally {
        await loop.onApplicationShutdown();
      }
    });

    it('should not run while another worker leads the reaper', async () => {
      const calls: string[] = [];
      const leader = new ReaperLoop(repos, fakeReaper(calls), config);
      const other = new ReaperLoop(repos, fakeReaper(calls), config);
      try {
        expect(await leader.tick()).not.toBeNull();
        expect(await other.tick()).toBeNull();
        expect(calls).toEqual(['run', 'orphans']);
      } finally {
        await leader.onApplicationShutdown();
        await other.onApplicationShutdown();
      }
    });
  });
});
