import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { MAINNET_HELICON_TIME } from '@snowline/domain';
import { HostEntity, Repositories, type NewStakingObservation } from '@snowline/persistence';
import { StakingLoop } from '../../apps/worker/src/staking/staking-loop.service';
import { migratedDatabase } from '../support/db';

jest.setTimeout(60_000);

const A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const H = 3_600_000;
const START = MAINNET_HELICON_TIME + 30 * 24 * H;

/**
 * Issue 22 point 3: the staking loop against Postgres. It hands each healthy node its lookups
 * (never its own validator), judges each validator from the reports, and raises each staking event
 * once per condition — not every round — in the transaction that records it; a stale view turns
 * unknown, keeps its last figures and their age, and raises nothing.
 */
describe(StakingLoop.name, () => {
  let db: { drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let loop: StakingLoop;
  let projectId: string;
  let validatorId: string;
  let ownHost: string;
  let standby: string;

  const host = async (over: Partial<HostEntity>) =>
    (
      await ds.manager.save(
        HostEntity,
        ds.manager.create(HostEntity, {
          role: 'standby',
          zone: 'cn-hongkong-c',
          network: 'fuji',
          instanceType: 'ecs.g7.2xlarge',
          clientToken: randomUUID(),
          instanceId: `i-${randomUUID().slice(0, 12)}`,
          health: 'healthy',
          lastReport: { running: true, bootstrapped: true, nodeId: null, healthy: true },
          ...over,
        } as Partial<HostEntity>),
      )
    ).id;
  /** What the standby's node says: A registered for 48 h, measured at `uptime` after 24 h. */
  const peerSays = (uptime: number, pchainTime = START + 24 * H): NewStakingObservation => ({
    nodeId: A,
    subnetId: null,
    kind: 'peer',
    pchainTime,
    registered: true,
    stake: {
      txId: 'tx-1',
      startMs: START,
      endMs: START + 48 * H,
      weight: '1000000000',
      autoRenew: false,
    },
    uptime,
    connected: uptime > 0.5,
    rewardingStakePercent: null,
    weightedAveragePercent: null,
  });
  const types = async () =>
    (
      (await ds.query(
        `SELECT type FROM events WHERE validator_id = $1 AND type LIKE 'staking.%' ORDER BY id`,
        [validatorId],
      )) as { type: string }[]
    ).map((r) => r.type);

  beforeAll(async () => {
    let config;
    ({ db, ds, config } = await migratedDatabase('staking_loop', {
      STAKING_REPORT_SECONDS: '10',
      STAKING_AT_RISK_BUDGET_PERCENT: '50',
    }));
    repos = new Repositories(ds);
    loop = new StakingLoop(repos, config);
    projectId = (await repos.projects.create('default', true)).id;
    const identity = await repos.identities.insert({
      projectId,
      nodeId: A,
      blsPublicKey: '0x' + '00'.repeat(48),
      proofOfPossession: '0x' + '00'.repeat(96),
      wrappedDataKey: Buffer.from('x'),
      sealedKeys: Buffer.from('x'),
      masterKeyId: 'test',
      imported: true,
    });
    validatorId = randomUUID();
    ownHost = await host({ role: 'assigned', zone: 'cn-hongkong-b', network: null, generation: 1 });
    standby = await host({});
    await repos.validators.insert({
      id: validatorId,
      projectId,
      name: 'staker',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'active',
      generation: 1,
      identityId: identity.id,
      nodeId: A,
      hostId: ownHost,
      zone: 'cn-hongkong-b',
      avalanchegoVersion: '1.15.3',
    } as never);
    await repos.hosts.update(ownHost, { validatorId, projectId });
  });
  afterAll(async () => {
    await loop?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  it('should ask another node to look the validator up, never its own', async () => {
    const r = await loop.tick();
    expect(r).toMatchObject({ validators: 1, observers: 2, byStatus: { unknown: 1 } });
    const lookups = await repos.staking.lookups();
    expect(lookups.get(standby)).toEqual([A]);
    expect(lookups.has(ownHost)).toBe(false);
    expect((await repos.staking.viewOf(validatorId))?.view).toMatchObject({
      status: 'unknown',
      ageMs: null,
    });
  });

  it('should raise each condition once, not every round', async () => {
    await repos.staking.replaceObservations(standby, 'fuji', [peerSays(1)]);
    await loop.tick();
    await loop.tick();
    expect(await types()).toEqual(['staking.registered']);
    // 24 h in at 89 %: 2.64 h of a 4.8 h budget gone — less than half left.
    await repos.staking.replaceObservations(standby, 'fuji', [peerSays(0.89)]);
    await loop.tick();
    await loop.tick();
    expect(await types()).toEqual(['staking.registered', 'staking.uptime_at_risk']);
    const stored = (await repos.staking.viewOf(validatorId))!;
    expect(stored.view).toMatchObject({
      status: 'at_risk',
      requirement: 0.9,
      uptimeSource: 'peer',
    });
    expect(stored.view.budget!.budgetLeftMs).toBe(Math.round(4.8 * H - 0.11 * 24 * H));
    expect((await repos.staking.urgencyOf([validatorId])).get(validatorId)).toEqual({
      status: 'at_risk',
      budgetLeftMs: stored.view.budget!.budgetLeftMs,
    });
    await repos.staking.replaceObservations(standby, 'fuji', [peerSays(0.7)]);
    await loop.tick();
    await loop.tick();
    expect(await types()).toEqual([
      'staking.registered',
      'staking.uptime_at_risk',
      'staking.reward_lost',
    ]);
    const [lost] = (await ds.query(
      `SELECT message, data FROM events WHERE validator_id = $1 AND type = 'staking.reward_lost'`,
      [validatorId],
    )) as { message: string; data: Record<string, unknown> }[];
    expect(lost!.message).toContain('reward is lost');
    expect(lost!.data).toMatchObject({ nodeId: A, txId: 'tx-1', budgetSeconds: 17_280 });
  });

  it('should go unknown when the reports stop, keeping the last figures and their age', async () => {
    await ds.query(`UPDATE staking_observations SET observed_at = now() - interval '1 hour'`);
    const r = await loop.tick();
    expect(r?.byStatus).toEqual({ unknown: 1 });
    const stored = (await repos.staking.viewOf(validatorId))!;
    expect(stored.view.status).toBe('unknown');
    expect(stored.view.lastStatus).toBe('lost');
    expect(stored.view.ageMs).toBeGreaterThanOrEqual(3_600_000);
    expect(stored.view.budget).not.toBeNull();
    expect(await types()).toHaveLength(3);
  });

  it('should stop asking a node that is no longer healthy', async () => {
    await repos.hosts.update(standby, { health: 'unhealthy' });
    await loop.tick();
    expect((await repos.staking.lookups()).has(standby)).toBe(false);
  });
});
