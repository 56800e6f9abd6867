import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createCloudProvider, type CloudProvider } from '@snowline/cloud';
import { deriveKey, type AppConfig } from '@snowline/config';
import { Repositories, type ValidatorEntity } from '@snowline/persistence';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import { ProvisionService } from '../../apps/worker/src/lifecycle/provision.service';
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
  let projectId: string;

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
    }));
    repos = new Repositories(ds);
    cloud = createCloudProvider(config);
    provision = new ProvisionService(repos, cloud, config, deriveKey(randomBytes(32), 'bootstrap'));
    projectId = (await repos.projects.create('default', true)).id;
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    await sim?.close();
  });

  /** `n` validators waiting for their first launch, all in one zone (so one batch takes them). */
  async function waiting(n: number, zone = TEST_ZONES[0]!): Promise<ValidatorEntity[]> {
    const out: ValidatorEntity[] = [];
    for (let i = 0; i < n; i++) {
      const name = `b-${randomBytes(4).toString('hex')}`;
      const identity = await repos.identities.insert({
        projectId,
        nodeId: `NodeID-${name}`,
        blsPublicKey: '0x00',
        proofOfPossession: '0x00',
        wrappedDataKey: Buffer.from('w'),
        sealedKeys: Buffer.from('s'),
        masterKeyId: 'k',
        imported: false,
      });
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
  });
});
