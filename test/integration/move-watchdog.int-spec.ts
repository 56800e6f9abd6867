import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { CloudProvider } from '@snowline/cloud';
import type { AppConfig } from '@snowline/config';
import { HostEntity, Repositories, type ValidatorEntity } from '@snowline/persistence';
import type { LifecycleQueue } from '@snowline/queue';
import { FailoverService } from '../../apps/worker/src/failover/failover.service';
import { MoveWatchdogService } from '../../apps/worker/src/failover/move-watchdog.service';
import { migratedDatabase } from '../support/db';

/**
 * The move watchdog against Postgres, with the production FailoverService: a move whose target
 * dies or stalls is re-planned, the validator fails after the last attempt, retiring ends a move,
 * and no `running` row outlives its move.
 */
describe(MoveWatchdogService.name, () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let failover: FailoverService;
  let watchdog: MoveWatchdogService;
  const provisioned: string[] = [];
  const stopped: string[] = [];
  const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
  let projectId: string;

  beforeAll(async () => {
    let config: AppConfig;
    ({ db, ds, config } = await migratedDatabase('move-watchdog', {
      FAILOVER_DEADLINE_SECONDS: '180',
      FAILOVER_MAX_ATTEMPTS: '3',
    }));
    repos = new Repositories(ds);
    // A fake of our own port: the queue records the launches a move asks for.
    const queue = {
      provision: (id: string) => {
        provisioned.push(id);
        return Promise.resolve();
      },
    } as unknown as LifecycleQueue;
    // And the cloud port records the force-stops a move sends (their effect is the e2e's business).
    const cloud = {
      stop: (ids: string[]) => {
        stopped.push(...ids);
        return Promise.resolve();
      },
    } as unknown as CloudProvider;
    failover = new FailoverService(repos, queue, config, cloud);
    watchdog = new MoveWatchdogService(repos, failover, config);
    projectId = (await repos.projects.create('default', true)).id;
  });
  afterAll(async () => {
    await watchdog?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  const host = (over: Partial<HostEntity>) =>
    ds.manager.save(
      HostEntity,
      ds.manager.create(HostEntity, {
        role: 'standby',
        instanceType: 'ecs.g7.2xlarge',
        clientToken: randomUUID(),
        bootstrapTokenHash: randomUUID(),
        instanceId: `i-${randomUUID().slice(0, 12)}`,
        network: 'fuji',
        health: 'healthy',
        healthReason: 'lease fresh, instance running',
        registeredAt: new Date(),
        leaseExpiresAt: new Date(Date.now() + 45_000),
        lastReport: { running: false, healthy: null, bootstrapped: true },
        ...over,
      } as Partial<HostEntity>),
    );

  async function activeValidator(name: string): Promise<{ v: ValidatorEntity; from: HostEntity }> {
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
    const v = await repos.validators.insert({
      projectId,
      name,
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'active',
      identityId: identity.id,
      nodeId: identity.nodeId,
      generation: 1,
    });
    const from = await host({
      role: 'assigned',
      zone: ZONES[0],
      validatorId: v.id,
      projectId,
      generation: 1,
      keysFetchedGeneration: 1,
      health: 'unhealthy',
      healthReason: 'ECS reports the instance Stopped',
    });
    await repos.validators.update(v.id, {
      hostId: from.id,
      zone: from.zone,
      instanceId: from.instanceId,
    });
    return { v: (await repos.validators.findById(v.id))!, from };
  }

  const moves = async (validatorId: string) =>
    (await ds.query(
      `SELECT attempt, status, outcome, method, to_zone, kind, generation,
              extract(epoch FROM deadline_at - started_at)::int AS deadline_s
         FROM failovers WHERE validator_id = $1 ORDER BY attempt`,
      [validatorId],
    )) as {
      attempt: number;
      status: string;
      outcome: string | null;
      method: string;
      to_zone: string | null;
      kind: string;
      generation: number;
      deadline_s: number;
    }[];
  const expireDeadline = (validatorId: string) =>
    ds.query(
      `UPDATE failovers SET deadline_at = now() - interval '1 second' WHERE validator_id = $1 AND status = 'running'`,
      [validatorId],
    );
  /** Live moves fleet-wide: what the concurrency cap counts. */
  const runningMoves = async () =>
    (
      (await ds.query(
        `SELECT count(*)::int AS running FROM failovers WHERE status = 'running'`,
      )) as [{ running: number }]
    )[0].running;
  const eventTypes = async (validatorId: string) =>
    (
      (await ds.query(`SELECT type FROM events WHERE validator_id = $1 ORDER BY id`, [
        validatorId,
      ])) as { type: string }[]
    ).map((e) => e.type);

  it('should re-plan a move whose target dies, stall by stall, then fail the validator with a reason', async () => {
    const { v, from } = await activeValidator('double-fault');
    const s1 = await host({ zone: ZONES[1] });
    const s2 = await host({ zone: ZONES[2] });
    expect(
      await failover.start({
        validatorId: v.id,
        fromHostId: from.id,
        reason: 'ECS reports the instance Stopped',
        detectedAt: new Date(),
      }),
    ).toBe('standby');
    expect(await moves(v.id)).toEqual([
      expect.objectContaining({ attempt: 1, status: 'running', kind: 'failover', deadline_s: 180 }),
    ]);
    // Nothing wrong yet: the watchdog leaves a healthy target alone.
    expect(await watchdog.tick()).toEqual(expect.objectContaining({ live: 1, replanned: 0 }));

    // 1. The standby taking over dies mid-move.
    await ds.query(
      `UPDATE hosts SET health = 'unhealthy', health_reason = 'ECS reports the instance Stopped' WHERE id = $1`,
      [s1.id],
    );
    expect(await watchdog.tick()).toEqual(expect.objectContaining({ replanned: 1 }));
    let cur = (await repos.validators.findById(v.id))!;
    expect(cur).toEqual(
      expect.objectContaining({
        state: 'failing_over',
        generation: 3,
        hostId: s2.id,
        zone: ZONES[2],
      }),
    );
    expect(await moves(v.id)).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'replanned',
        outcome: `the target ${s1.instanceId} in ${ZONES[1]} failed: ECS reports the instance Stopped`,
      }),
      expect.objectContaining({
        attempt: 2,
        status: 'running',
        method: 'standby',
        to_zone: ZONES[2],
      }),
    ]);
    // The failed target is fenced by generation: it keeps its row, so keys wait for it too.
    expect(await repos.hosts.findById(s1.id)).toEqual(
      expect.objectContaining({ validatorId: v.id, generation: 2 }),
    );
    // Both instances the identity left were asked to force-stop (cloud-confirmed fencing).
    expect(stopped).toEqual([from.instanceId, s1.instanceId]);

    // 2. The second target never gets its keys by the deadline; no standby is left: launch.
    await expireDeadline(v.id);
    expect(await watchdog.tick()).toEqual(expect.objectContaining({ replanned: 1 }));
    cur = (await repos.validators.findById(v.id))!;
    expect(cur).toEqual(
      expect.objectContaining({ state: 'failing_over', generation: 4, hostId: null }),
    );
    expect(provisioned).toEqual([v.id]);
    expect((await moves(v.id))[1]).toEqual(
      expect.objectContaining({
        status: 'replanned',
        outcome: `no progress by the deadline: ${s2.instanceId} in ${ZONES[2]} has not received the keys`,
      }),
    );

    // 3. The launch produces nothing by the deadline: the last attempt is spent.
    await expireDeadline(v.id);
    expect(await watchdog.tick()).toEqual(expect.objectContaining({ failed: 1, live: 0 }));
    cur = (await repos.validators.findById(v.id))!;
    expect(cur.state).toBe('failed');
    expect(cur.generation).toBe(5); // fenced: no host may run generation 4 any more
    expect(cur.hostId).toBeNull();
    expect(cur.stateReason).toMatch(
      /^gave up after 3 attempts: no progress by the deadline: no instance launched yet\. .*retire it/,
    );
    expect((await moves(v.id)).map((m) => m.status)).toEqual(['replanned', 'replanned', 'failed']);
    expect(await eventTypes(v.id)).toEqual([
      'failover.started',
      'failover.replanned',
      'failover.started',
      'failover.replanned',
      'failover.started',
      'failover.failed',
      'validator.failed',
    ]);
    // Nothing of it holds a concurrency slot.
    expect(await runningMoves()).toBe(0);
  });

  it('should leave a bootstrapping target alone past its deadline (keys, node running, healthy)', async () => {
    const { v, from } = await activeValidator('slow-sync');
    const s = await host({ zone: ZONES[1] });
    await failover.start({
      validatorId: v.id,
      fromHostId: from.id,
      reason: 'x',
      detectedAt: new Date(),
    });
    await ds.query(
      `UPDATE hosts SET keys_fetched_generation = generation, last_report = '{"running": true, "healthy": false, "bootstrapped": false}' WHERE id = $1`,
      [s.id],
    );
    await expireDeadline(v.id);
    expect(await watchdog.tick()).toEqual(expect.objectContaining({ replanned: 0, failed: 0 }));
    expect((await moves(v.id)).map((m) => m.status)).toEqual(['running']);
    await repos.validators.transition(v.id, 'retiring', {}, { from: ['failing_over'] });
  });

  it('should end the move of a validator retired mid-move, freeing its slot', async () => {
    const { v, from } = await activeValidator('retired-mid-move');
    await host({ zone: ZONES[1] });
    await failover.start({
      validatorId: v.id,
      fromHostId: from.id,
      reason: 'x',
      detectedAt: new Date(),
    });
    expect(
      await repos.validators.transition(v.id, 'retiring', {}, { from: ['failing_over'] }),
    ).toBe(true);
    const stats = await watchdog.tick();
    expect(stats?.cancelled).toBeGreaterThanOrEqual(1);
    expect(await moves(v.id)).toEqual([
      expect.objectContaining({ status: 'cancelled', outcome: 'retired during the move' }),
    ]);
    expect(await eventTypes(v.id)).toContain('failover.cancelled');
    expect(await runningMoves()).toBe(0);
  });

  it('should refuse a second live move of one validator', async () => {
    const { v, from } = await activeValidator('one-live-move');
    await host({ zone: ZONES[1] });
    await failover.start({
      validatorId: v.id,
      fromHostId: from.id,
      reason: 'x',
      detectedAt: new Date(),
    });
    await expect(
      ds.query(
        `INSERT INTO failovers (validator_id, project_id, generation, reason, method, status, deadline_at)
         VALUES ($1, $2, 9, 'dup', 'launch', 'running', now())`,
        [v.id, projectId],
      ),
    ).rejects.toThrow(/failovers_one_running/);
  });
});
