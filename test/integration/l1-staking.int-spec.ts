import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { stakingReportRequestSchema, type L1SelfReport } from '@snowline/agent';
import type { AppConfig } from '@snowline/config';
import { HostEntity, Repositories } from '@snowline/persistence';
import { StakingReportService } from '../../apps/api/src/agent/staking-report.service';
import { ValidatorStakingService } from '../../apps/api/src/validators/validator-staking.service';
import { StakingLoop } from '../../apps/worker/src/staking/staking-loop.service';
import { migratedDatabase } from '../support/db';

jest.setTimeout(60_000);

const A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const B = 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ';
const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
const OTHER_L1 = '2JHTv6kDDw6Yg3Xb8PXwkRszQbiRJvd1TuVuoJx7a3gDxLWvY8';
const VID = '29sdTmk9ez2Asy7Jso3q3eqZnY2YgkFZsXbtUYaGzmYVn6dgnE';
const DAY_S = 86_400n;
/** nAVAX that pays `days` of fee at 512 nAVAX/s. */
const paysDays = (days: number) => String(512n * BigInt(Math.round(days * 86_400)));
const START_S = 1_796_000_000;

/**
 * Issue 22 point 6: an L1 validator's balance, from its own node's staking report to
 * `l1.balance_low`. The API keeps the L1 entry only for the host's own validator in that validator's
 * L1; the worker judges it (evaluateL1Staking) and raises the event once — not every round — in the
 * transaction that stores the view; a top-up above the setting arms it again.
 */
describe('L1 validators: balance_low', () => {
  let db: { drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let config: AppConfig;
  let api: StakingReportService;
  let read: ValidatorStakingService;
  let loop: StakingLoop;
  let projectId: string;
  let l1Validator: string;
  let ownHost: string;
  let otherHost: string;
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
  const validator = async (nodeId: string, hostId: string, subnetId: string | null) => {
    const identity = await repos.identities.insert({
      projectId,
      nodeId,
      blsPublicKey: '0x' + '00'.repeat(48),
      proofOfPossession: '0x' + '00'.repeat(96),
      wrappedDataKey: Buffer.from('x'),
      sealedKeys: Buffer.from('x'),
      masterKeyId: 'test',
      imported: true,
    });
    const id = randomUUID();
    await repos.validators.insert({
      id,
      projectId,
      name: `v-${nodeId.slice(7, 12)}`,
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'active',
      generation: 1,
      identityId: identity.id,
      nodeId,
      hostId,
      zone: 'cn-hongkong-b',
      avalanchegoVersion: '1.15.3',
      subnetId,
    } as never);
    await repos.hosts.update(hostId, { validatorId: id, projectId });
    return id;
  };
  const entry = (balance: string, over: Partial<L1SelfReport> = {}): L1SelfReport => ({
    subnetId: L1,
    nodeId: A,
    registered: true,
    validationId: VID,
    balance,
    weight: '20',
    startTime: START_S,
    feePrice: '512',
    ...over,
  });
  /** One report from the validator's own node (generation 1), as the controller parses it. */
  const report = (hostId: string, nodeId: string, l1: L1SelfReport[]) =>
    api.report(
      hostId,
      stakingReportRequestSchema.parse({
        hostId,
        generation: 1,
        nodeId,
        pchainTime: new Date(START_S * 1000 + 3_600_000).toISOString(),
        self: null,
        asked: [nodeId],
        validators: [],
        l1,
      }),
    );
  const events = async () =>
    (await ds.query(
      `SELECT type, message, data FROM events WHERE validator_id = $1 AND type LIKE 'l1.%'
        ORDER BY id`,
      [l1Validator],
    )) as { type: string; message: string; data: Record<string, unknown> }[];
  const l1Rows = async () =>
    (await ds.query(
      `SELECT observer_host_id AS "hostId", node_id AS "nodeId", subnet_id AS "subnetId",
              balance::text AS balance
         FROM staking_observations WHERE subnet_id IS NOT NULL ORDER BY observed_at`,
    )) as { hostId: string; nodeId: string; subnetId: string; balance: string }[];
  const stakingBlock = async () =>
    (await read.blocks([{ id: l1Validator, network: 'fuji' }])).get(l1Validator)!;

  beforeAll(async () => {
    ({ db, ds, config } = await migratedDatabase('l1_staking', {
      STAKING_REPORT_SECONDS: '10',
      L1_BALANCE_LOW_DAYS: '14',
    }));
    repos = new Repositories(ds);
    api = new StakingReportService(repos, config);
    read = new ValidatorStakingService(repos, config);
    loop = new StakingLoop(repos, config);
    projectId = (await repos.projects.create('default', true)).id;
    ownHost = await host({ role: 'assigned', zone: 'cn-hongkong-b', generation: 1, subnetId: L1 });
    otherHost = await host({ role: 'assigned', zone: 'cn-hongkong-b', generation: 1 });
    standby = await host({});
    l1Validator = await validator(A, ownHost, L1);
    await validator(B, otherHost, null);
  });
  afterAll(async () => {
    await loop?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  it('should keep only the host’s own validator in its own L1', async () => {
    await report(ownHost, A, [
      entry(paysDays(14 + 1 / 24)),
      entry('1', { nodeId: B }),
      entry('1', { subnetId: OTHER_L1 }),
    ]);
    // Another host speaks for A in A's L1: not believed.
    await report(otherHost, B, [entry('1')]);
    expect(await l1Rows()).toEqual([
      { hostId: ownHost, nodeId: A, subnetId: L1, balance: paysDays(14 + 1 / 24) },
    ]);
  });

  it('should judge the balance in days of fee, and ask no peer to look an L1 validator up', async () => {
    const r = await loop.tick();
    expect(r).toMatchObject({ validators: 2, events: 0 });
    expect(r?.byStatus).toMatchObject({ registered: 1 });
    expect((await repos.staking.lookups()).get(standby) ?? []).not.toContain(A);
    const stored = (await repos.staking.viewOf(l1Validator))!;
    expect(stored.subnetId).toBe(L1);
    expect(stored.view.l1).toMatchObject({
      subnetId: L1,
      validationId: VID,
      balance: paysDays(14 + 1 / 24),
      feePrice: '512',
      feeSource: 'node',
      active: true,
      low: false,
    });
    expect(stored.view.l1!.daysLeft).toBeCloseTo(14 + 1 / 24, 6);
    expect(await events()).toEqual([]);
  });

  it('should raise l1.balance_low once when the days left drop below the setting', async () => {
    await report(ownHost, A, [entry(paysDays(13.5))]);
    await loop.tick();
    await loop.tick();
    const raised = await events();
    expect(raised.map((e) => e.type)).toEqual(['l1.balance_low']);
    expect(raised[0]!.data).toMatchObject({
      nodeId: A,
      subnetId: L1,
      validationId: VID,
      balance: paysDays(13.5),
      feePrice: '512',
      daysLeft: 13.5,
      balanceLowDays: 14,
    });
    expect(raised[0]!.message).toContain('IncreaseL1ValidatorBalanceTx');
    const block = await stakingBlock();
    expect(block).toMatchObject({
      status: 'registered',
      l1: {
        subnetId: L1,
        balance: paysDays(13.5),
        feePrice: '512',
        feeSource: 'node',
        daysLeft: 13.5,
        active: true,
        low: true,
        lowBelowDays: 14,
      },
      lastKnown: null,
    });
    // Still low, lower still: no second event.
    await report(ownHost, A, [entry(paysDays(13))]);
    await loop.tick();
    expect(await events()).toHaveLength(1);
  });

  it('should arm it again after a top-up, and raise it at the next drop', async () => {
    await report(ownHost, A, [entry(String(512n * 20n * DAY_S))]);
    await loop.tick();
    expect((await stakingBlock()).l1).toMatchObject({ low: false, daysLeft: 20 });
    expect(await events()).toHaveLength(1);
    await report(ownHost, A, [entry(paysDays(2))]);
    await loop.tick();
    expect((await events()).map((e) => e.type)).toEqual(['l1.balance_low', 'l1.balance_low']);
  });

  it('should say unknown, not 0, once the reports stop: the last balance beside its age', async () => {
    await ds.query(`UPDATE staking_observations SET observed_at = now() - interval '1 hour'`);
    await loop.tick();
    const block = await stakingBlock();
    expect(block).toMatchObject({ status: 'unknown', l1: null });
    expect(block.ageSeconds).toBeGreaterThanOrEqual(3600);
    expect(block.lastKnown?.l1).toMatchObject({ balance: paysDays(2), low: true });
    expect(await events()).toHaveLength(2);
  });
});
