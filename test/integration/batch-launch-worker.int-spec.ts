import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  createCloudProvider,
  TAG_BATCH,
  TAG_PROJECT,
  TAG_VALIDATOR,
  type CloudProvider,
} from '@snowline/cloud';
import { deriveKey, type AppConfig } from '@snowline/config';
import { Repositories, type ValidatorEntity } from '@snowline/persistence';
import type { LifecycleQueue } from '@snowline/queue';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import { ProvisionService } from '../../apps/worker/src/lifecycle/provision.service';
import { RetireService } from '../../apps/worker/src/lifecycle/retire.service';
import { ReaperService } from '../../apps/worker/src/standby/reaper.service';
import { StandbyPoolService } from '../../apps/worker/src/standby/standby-pool.service';
import { migratedDatabase, TEST_ZONES } from '../support/db';

const KEY_ID = 'batch-worker-key';
const SECRET = 'batch-worker-secret';

/**
 * Batch launches in the worker against Postgres and the simulator through the real ECS SDK, with
 * the simulator's rate limits on and no agents (the rows are moved as an agent's renewals would).
 */
describe('batch launches in the worker', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let config: AppConfig;
  let sim: EcsSim;
  let repos: Repositories;
  let cloud: CloudProvider;
  let provision: ProvisionService;
  let pool: StandbyPoolService;
  let reaper: ReaperService;
  let retire: RetireService;
  /** launch-standby jobs enqueued and not yet run (the fake queue's). */
  const standbyJobs: string[] = [];

  const calls = async (action: string): Promise<number> =>
    ((
      (await (await fetch(`${sim.url}/_sim/state`)).json()) as {
        calls: Record<string, number>;
      }
    ).calls[action] ?? 0) as number;

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      zones: TEST_ZONES,
      timeScale: 0.01,
      rateLimits: true,
      hostFactory: () => null,
    });
    ({ db, ds, config } = await migratedDatabase('batch_worker', {
      CLOUD_PROVIDER: 'sim',
      ECS_SIM_PORT: String(sim.port),
      SIM_ACCESS_KEY_ID: KEY_ID,
      SIM_ACCESS_KEY_SECRET: SECRET,
      LAUNCH_BATCH_WAIT_MS: '0',
      STANDBY_POOL: 'fuji=30',
    }));
    repos = new Repositories(ds);
    cloud = createCloudProvider(config);
    provision = new ProvisionService(repos, cloud, config, deriveKey(randomBytes(32), 'bootstrap'));
    const queue = {
      launchStandby: (hostId: string) => {
        standbyJobs.push(hostId);
        return Promise.resolve();
      },
    } as unknown as LifecycleQueue;
    pool = new StandbyPoolService(repos, cloud, queue, provision, config);
    reaper = new ReaperService(repos, cloud, config);
    retire = new RetireService(repos, cloud);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    await sim?.close();
  });

  /** A staking identity row (placeholder keys) for the validator `name`. */
  const identityFor = (projectId: string, name: string) =>
    repos.identities.insert({
      projectId,
      nodeId: `NodeID-${name}`,
      blsPublicKey: '0x00',
      proofOfPossession: '0x00',
      wrappedDataKey: Buffer.from('w'),
      sealedKeys: Buffer.from('s'),
      masterKeyId: 'k',
      imported: false,
    });
  /**
   * `n` validators waiting for their first launch, all in one zone (so one batch takes them), in a
   * project of their own (so no other test's validators join their batch).
   */
  async function waiting(n: number, zone = TEST_ZONES[0]!): Promise<ValidatorEntity[]> {
    const out: ValidatorEntity[] = [];
    const projectId = (await repos.projects.create(`p-${randomBytes(4).toString('hex')}`)).id;
    for (let i = 0; i < n; i++) {
      const name = `b-${randomBytes(4).toString('hex')}`;
      const identity = await identityFor(projectId, name);
      out.push(
        await repos.validators.insert({
          projectId,
          name,
          identityId: identity.id,
          nodeId: identity.nodeId,
          network: 'fuji',
          instanceType: 'ecs.g7.2xlarge',
          zones: [zone],
          state: 'provisioning',
          generation: 0,
        }),
      );
    }
    return out;
  }

  describe(ProvisionService.name, () => {
    it('should leave a launch another job recorded alone, even when its view of the batch is stale', async () => {
      const vs = await waiting(3);
      // What a second member's job loaded before the first job recorded the batch.
      const stale = await repos.validators.findByIds(vs.map((v) => v.id));
      const runs = await calls('RunInstances');
      await provision.run(vs[0]!.id);
      expect((await calls('RunInstances')) - runs).toBe(1);
      const placed = await repos.validators.findByIds(vs.map((v) => v.id));
      expect(placed.every((v) => v.hostId && v.instanceId)).toBe(true);
      // One member's agent registered and started its node meanwhile.
      const syncing = placed.find((v) => v.id === vs[1]!.id)!;
      await repos.validators.update(syncing.id, { state: 'syncing' });
      const host = await repos.hosts.findById(syncing.hostId!);

      const deletes = await calls('DeleteInstances');
      const findByIds = repos.validators.findByIds.bind(repos.validators);
      repos.validators.findByIds = () => Promise.resolve(stale);
      try {
        await provision.launchBatch(host!.batchId!);
      } finally {
        repos.validators.findByIds = findByIds;
      }
      expect(await calls('DeleteInstances')).toBe(deletes);
      expect(await repos.hosts.findById(host!.id)).toMatchObject({
        deletedAt: null,
        fenced: false,
        instanceId: syncing.instanceId,
      });
      expect((await repos.validators.findById(syncing.id))!.state).toBe('syncing');
      const launched = (await ds.query(
        `SELECT count(*)::int AS n FROM events WHERE type = 'host.launched' AND validator_id = ANY($1)`,
        [vs.map((v) => v.id)],
      )) as { n: number }[];
      expect(launched[0]!.n).toBe(3); // once each, not again from the stale view
    });
    it("should gather a burst's validators while they still arrive, the other jobs leaving theirs to it", async () => {
      const gathering = new ProvisionService(
        repos,
        cloud,
        { ...config, launch: { ...config.launch, batchWaitMs: 100, batchMaxWaitMs: 20_000 } },
        deriveKey(randomBytes(32), 'bootstrap'),
      );
      const first = await waiting(2);
      const projectId = first[0]!.projectId;
      const runs = await calls('RunInstances');
      let gathered = false;
      const gatherer = gathering.run(first[0]!.id).then(() => (gathered = true));
      await new Promise((r) => setTimeout(r, 30)); // it has read its validator and is gathering
      // The other job of the burst returns at once: its validator is the gatherer's to launch.
      await gathering.run(first[1]!.id);
      expect(gathered).toBe(false);
      // The rest of the burst is still getting its identities, which arrive round after round.
      const later: ValidatorEntity[] = [];
      for (let i = 0; i < 3; i++)
        later.push(
          await repos.validators.insert({
            projectId,
            name: `later-${randomBytes(4).toString('hex')}`,
            network: 'fuji',
            instanceType: 'ecs.g7.2xlarge',
            zones: [TEST_ZONES[0]!],
            state: 'pending',
            generation: 0,
          }),
        );
      for (const v of later) {
        await new Promise((r) => setTimeout(r, 150));
        const identity = await identityFor(projectId, v.name);
        await repos.validators.update(v.id, { identityId: identity.id, nodeId: identity.nodeId });
      }
      await gatherer;
      expect((await calls('RunInstances')) - runs).toBe(1);
      const placed = await repos.validators.findByIds([...first, ...later].map((v) => v.id));
      expect(placed.every((v) => v.instanceId)).toBe(true);
      const batches = new Set(
        await Promise.all(
          placed.map(async (v) => (await repos.hosts.findById(v.hostId!))!.batchId),
        ),
      );
      expect(batches.size).toBe(1);
    });
  });

  describe(StandbyPoolService.name, () => {
    /** Runs every launch-standby job enqueued so far, as the worker would. */
    const runJobs = async () => {
      while (standbyJobs.length) await pool.launch(standbyJobs.shift()!);
    };
    const standbys = async (zone?: string) =>
      (await ds.query(
        `SELECT id, zone, instance_id AS "instanceId", batch_id AS "batchId" FROM hosts
          WHERE role = 'standby' AND deleted_at IS NULL AND ($1::text IS NULL OR zone = $1)`,
        [zone ?? null],
      )) as { id: string; zone: string; instanceId: string | null; batchId: string | null }[];

    it('should fill empty pools with one RunInstances per zone', async () => {
      const runs = await calls('RunInstances');
      expect(await pool.refill(TEST_ZONES)).toBe(90);
      expect(standbyJobs).toHaveLength(3); // one job per batch, not per standby
      await runJobs();
      expect((await calls('RunInstances')) - runs).toBe(3);
      const rows = await standbys();
      expect(rows).toHaveLength(90);
      expect(rows.every((r) => r.instanceId && r.batchId)).toBe(true);
      expect(new Set(rows.map((r) => r.instanceId)).size).toBe(90);
      // Tagged as standbys of their batch, as single launches are tagged as standbys.
      const tagged = await cloud.listByTag(TAG_BATCH, rows[0]!.batchId!);
      expect(tagged).toHaveLength(30);
      expect(tagged.every((i) => i.tags[TAG_VALIDATOR] === 'standby')).toBe(true);
      const launched = (await ds.query(
        `SELECT count(*)::int AS n FROM events WHERE type = 'standby.launched'`,
      )) as { n: number }[];
      expect(launched[0]!.n).toBe(90);
    });

    it("should refill what a zone's loss took from the other pools in one call per zone", async () => {
      // cn-hongkong-d is dark; its validators' moves took 20 standbys in -b and 15 in -c.
      for (const [zone, n] of [
        [TEST_ZONES[0]!, 20],
        [TEST_ZONES[1]!, 15],
      ] as const) {
        const taken = (await standbys(zone)).slice(0, n).map((r) => r.id);
        await ds.query(`UPDATE hosts SET role = 'assigned' WHERE id = ANY($1::uuid[])`, [taken]);
      }
      const runs = await calls('RunInstances');
      expect(await pool.refill(TEST_ZONES.slice(0, 2))).toBe(35);
      // Replayed jobs (a retry, the reconciler) launch nothing twice: the ClientToken is the batch's.
      standbyJobs.push(...standbyJobs);
      await runJobs();
      expect((await calls('RunInstances')) - runs).toBe(2);
      expect(await standbys(TEST_ZONES[0])).toHaveLength(30);
      expect(await standbys(TEST_ZONES[1])).toHaveLength(30);
      expect((await standbys()).every((r) => r.instanceId)).toBe(true);
      expect(await pool.refill(TEST_ZONES.slice(0, 2))).toBe(0);
    });
  });

  /** Every instance of `ids` the cloud still has, once none of them is starting any more. */
  async function settled(ids: string[]): Promise<{ instanceId: string; status: string }[]> {
    for (let i = 0; i < 100; i++) {
      const found = await cloud.describe(ids);
      if (found.every((f) => f.status === 'Running' || f.status === 'Stopped')) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`instances still starting: ${ids.join(', ')}`);
  }

  /**
   * Launches `vs` as one batch whose answer is lost (the worker died between RunInstances and the
   * commit): the instances exist, tagged with the batch, and nothing of them is recorded.
   */
  async function launchLost(vs: ValidatorEntity[]): Promise<{ batchId: string; ids: string[] }> {
    const record = repos.batches.recordInstances.bind(repos.batches);
    repos.batches.recordInstances = () => Promise.reject(new Error('worker killed before commit'));
    try {
      await expect(provision.run(vs[0]!.id)).rejects.toThrow('worker killed before commit');
    } finally {
      repos.batches.recordInstances = record;
    }
    const [host] = await repos.hosts.liveForValidator(vs[0]!.id);
    expect(host!.batchId).toBeTruthy();
    expect((await repos.batches.findById(host!.batchId!))!.instanceIds).toBeNull();
    const ids = (await cloud.listByTag(TAG_BATCH, host!.batchId!)).map((i) => i.instanceId);
    expect(ids).toHaveLength(vs.length);
    await settled(ids);
    return { batchId: host!.batchId!, ids };
  }

  describe(ReaperService.name, () => {
    it('should record a batch whose RunInstances answer was lost, and launch nothing again', async () => {
      const vs = await waiting(3);
      const { batchId, ids } = await launchLost(vs);
      const runs = await calls('RunInstances');
      expect(await reaper.orphans()).toEqual({ adopted: 3, deleted: 0 });
      expect([...(await repos.batches.findById(batchId))!.instanceIds!].sort()).toEqual(
        [...ids].sort(),
      );
      // Each member's provision job (re-derived by the reconciler) records its placement from it.
      for (const v of vs) await provision.run(v.id);
      expect(await calls('RunInstances')).toBe(runs);
      const placed = await repos.validators.findByIds(vs.map((v) => v.id));
      expect(placed.map((v) => v.instanceId).sort()).toEqual([...ids].sort());
      expect(await reaper.orphans()).toEqual({ adopted: 0, deleted: 0 });
      expect(await cloud.describe(ids)).toHaveLength(3);
    });

    it('should delete the instance of a member that left its batch before it launched, and no other', async () => {
      const vs = await waiting(3);
      const launchMany = cloud.launchMany.bind(cloud);
      cloud.launchMany = () => Promise.reject(new Error('connection reset'));
      try {
        await expect(provision.run(vs[0]!.id)).rejects.toThrow('connection reset');
      } finally {
        cloud.launchMany = launchMany;
      }
      const [host] = await repos.hosts.liveForValidator(vs[2]!.id);
      // The move watchdog re-planned vs[2] meanwhile: its unlaunched host row is abandoned.
      await repos.transaction((tx) => repos.hosts.abandonUnlaunched(vs[2]!.id, 0, tx));
      await provision.launchBatch(host!.batchId!);
      const ids = (await repos.batches.findById(host!.batchId!))!.instanceIds!;
      expect(ids).toHaveLength(3); // the batch's size was fixed when it was made
      await settled(ids);
      expect(await reaper.orphans()).toEqual({ adopted: 0, deleted: 1 });
      const left = (await cloud.describe(ids)).map((i) => i.instanceId);
      const kept = (await repos.validators.findByIds([vs[0]!.id, vs[1]!.id])).map(
        (v) => v.instanceId,
      );
      expect(left.sort()).toEqual(kept.sort());
      expect(left).not.toContain(ids[host!.batchIndex!]);
    });

    it('should delete every instance of a batch whose members are all gone', async () => {
      const vs = await waiting(2);
      const { batchId, ids } = await launchLost(vs);
      await ds.query(`UPDATE hosts SET deleted_at = now(), fenced = true WHERE batch_id = $1`, [
        batchId,
      ]);
      expect(await reaper.orphans()).toEqual({ adopted: 0, deleted: 2 });
      expect(await cloud.describe(ids)).toEqual([]);
    });

    it("should leave another installation's batch alone, and delete ours whose batch row aged out", async () => {
      const launch = (project: string) =>
        cloud.launchMany(
          {
            clientToken: `foreign-${randomBytes(6).toString('hex')}`,
            zoneId: TEST_ZONES[1]!,
            instanceType: 'ecs.g7.2xlarge',
            tags: { [TAG_PROJECT]: project, [TAG_BATCH]: crypto.randomUUID() },
          },
          2,
        );
      const theirs = await launch('another-snowline');
      const ours = await launch((await repos.projects.create('aged-out')).id);
      await settled([...theirs, ...ours]);
      expect(await reaper.orphans()).toEqual({ adopted: 0, deleted: 2 });
      expect((await cloud.describe([...theirs, ...ours])).map((i) => i.instanceId).sort()).toEqual(
        [...theirs].sort(),
      );
    });
  });

  describe(RetireService.name, () => {
    it("should delete a batch member's instance that was never recorded, and leave the others theirs", async () => {
      const vs = await waiting(3);
      const { batchId, ids } = await launchLost(vs);
      const gone = vs[1]!;
      const [host] = await repos.hosts.liveForValidator(gone.id);
      await repos.validators.update(gone.id, { state: 'retiring' });
      await retire.run(gone.id);
      expect((await repos.validators.findById(gone.id))!.state).toBe('retired');
      // Found by the batch's tag and recorded, so the member's own instance is known: the one at
      // its index is deleted, the other two stay with their members.
      const recorded = (await repos.batches.findById(batchId))!.instanceIds!;
      expect([...recorded].sort()).toEqual([...ids].sort());
      const mine = recorded[host!.batchIndex!]!;
      const left = (await cloud.describe(ids)).map((i) => i.instanceId);
      expect(left).toHaveLength(2);
      expect(left).not.toContain(mine);
      for (const v of [vs[0]!, vs[2]!]) {
        const [h] = await repos.hosts.liveForValidator(v.id);
        expect(left).toContain(h!.instanceId);
      }
      expect(await reaper.orphans()).toEqual({ adopted: 0, deleted: 0 });
    });
  });
});
