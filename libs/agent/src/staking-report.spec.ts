import {
  generateIdentity,
  NodeRpcError,
  NodeUnreachable,
  type GeneratedIdentity,
  type GetCurrentValidatorsParams,
  type GetCurrentValidatorsResult,
  type GetL1ValidatorResult,
  type GetValidatorFeeStateResult,
  type L1Validator,
  type PermissionlessValidator,
} from '@snowline/avalanche';
import { Agent } from './agent';
import { AGENT_PATHS, type LeaseResponse, type UserData } from './protocol';
import { SimulatedNodeDriver } from './simulated-node-driver';
import {
  readStakingReport,
  stakingReportRequestSchema,
  type StakingNode,
  type StakingReportRequest,
} from './staking-report';

const A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const B = 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ';
const C = 'NodeID-NFBbbJ4qCmNaCzeW7sxErhvWqvEQMnYcN';
const PCHAIN = new Date('2026-12-03T06:00:00.000Z');

const validator = (nodeID: string, over: Partial<PermissionlessValidator> = {}) =>
  ({
    txID: '2JHTv6kDDw6Yg3Xb8PXwkRszQbiRJvd1TuVuoJx7a3gDxLWvY8',
    startTime: '1796000000',
    endTime: '1796172800',
    weight: '2000000000000',
    nodeID,
    delegationFee: '2.0000',
    uptime: '99.5000',
    connected: true,
    ...over,
  }) as PermissionlessValidator;

/** A node whose answers a test scripts; records what it was asked. */
class FakeNode implements StakingNode {
  asked: GetCurrentValidatorsParams[] = [];
  uptimeCalls = 0;
  validators: GetCurrentValidatorsResult['validators'] = [validator(A), validator(B)];
  uptimeAnswer: () => Promise<{
    rewardingStakePercentage: string;
    weightedAveragePercentage: string;
  }> = () =>
    Promise.resolve({
      rewardingStakePercentage: '100.0000',
      weightedAveragePercentage: '99.9000',
    });
  timestamp: () => Promise<Date> = () => Promise.resolve(PCHAIN);
  getTimestamp() {
    return this.timestamp();
  }
  uptime() {
    this.uptimeCalls++;
    return this.uptimeAnswer();
  }
  /** By subnet id: the L1's current validators. */
  l1Validators = new Map<string, L1Validator[]>();
  l1Records = new Map<string, GetL1ValidatorResult>();
  l1Asked: string[] = [];
  feeState: () => Promise<GetValidatorFeeStateResult> = () =>
    Promise.resolve({ excess: '0', price: '600', timestamp: PCHAIN.toISOString() });
  getCurrentValidators(p: GetCurrentValidatorsParams) {
    this.asked.push(p);
    const wanted = new Set(p.nodeIDs ?? []);
    if (p.subnetID) {
      const l1 = this.l1Validators.get(p.subnetID);
      if (!l1)
        return Promise.reject(new NodeRpcError('platform.getCurrentValidators', -32000, 'x'));
      return Promise.resolve({ validators: l1.filter((v) => wanted.has(v.nodeID)) });
    }
    return Promise.resolve({ validators: this.validators.filter((v) => wanted.has(v.nodeID)) });
  }
  getL1Validator(validationID: string) {
    this.l1Asked.push(validationID);
    const r = this.l1Records.get(validationID);
    return r
      ? Promise.resolve(r)
      : Promise.reject(new NodeRpcError('platform.getL1Validator', -32000, 'not found'));
  }
  getValidatorFeeState() {
    return this.feeState();
  }
}

const HOST = '6f1c8a1e-6d0c-4f39-8c55-0a3f1c2b9d10';

describe(readStakingReport.name, () => {
  const q = { hostId: HOST, generation: 3, nodeId: A, ownNodeId: A, lookup: [B, C] };

  it('should read its own uptime and every NodeID asked, in the node’s P-chain time', async () => {
    const node = new FakeNode();
    const r = await readStakingReport(node, q);
    expect(stakingReportRequestSchema.parse(r)).toEqual(r);
    expect(r).toEqual({
      hostId: HOST,
      generation: 3,
      nodeId: A,
      pchainTime: PCHAIN.toISOString(),
      self: { rewardingStakePercentage: 100, weightedAveragePercentage: 99.9 },
      asked: [A, B, C],
      validators: [A, B].map((nodeId) => ({
        nodeId,
        txId: '2JHTv6kDDw6Yg3Xb8PXwkRszQbiRJvd1TuVuoJx7a3gDxLWvY8',
        startTime: 1796000000,
        endTime: 1796172800,
        weight: '2000000000000',
        uptime: 99.5,
        connected: true,
        autoRenew: false,
      })),
    });
    expect(node.asked).toEqual([{ nodeIDs: [A, B, C] }]);
  });

  it('should take "not a validator" for an answer, not a failure', async () => {
    const node = new FakeNode();
    node.uptimeAnswer = () =>
      Promise.reject(new NodeRpcError('info.uptime', -32000, 'node is not a validator'));
    expect((await readStakingReport(node, q)).self).toBeNull();
  });

  it('should send nothing when the node cannot answer', async () => {
    const node = new FakeNode();
    node.timestamp = () => Promise.reject(new NodeUnreachable('http://node', 'timeout'));
    await expect(readStakingReport(node, q)).rejects.toThrow(NodeUnreachable);
  });

  it('should ask a standby’s node no info.uptime, and keep only primary stakers it asked for', async () => {
    const node = new FakeNode();
    node.validators = [
      validator(B, { validatorAuthority: { locktime: '0', threshold: '1', addresses: [] } }),
      { nodeID: C, weight: '20', startTime: '1796000000', balance: '5' },
    ];
    const r = await readStakingReport(node, { ...q, generation: null, ownNodeId: null });
    expect(node.uptimeCalls).toBe(0);
    expect(r.asked).toEqual([B, C]);
    expect(r.validators.map((v) => [v.nodeId, v.autoRenew])).toEqual([[B, true]]);
  });
});

describe('readStakingReport, L1 validators', () => {
  const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
  const OTHER_L1 = '2JHTv6kDDw6Yg3Xb8PXwkRszQbiRJvd1TuVuoJx7a3gDxLWvY8';
  const VID = '29sdTmk9ez2Asy7Jso3q3eqZnY2YgkFZsXbtUYaGzmYVn6dgnE';
  const q = { hostId: HOST, generation: 3, nodeId: A, ownNodeId: A, lookup: [], l1s: [L1] };
  const listed: L1Validator = {
    nodeID: A,
    weight: '20',
    startTime: '1796000000',
    validationID: VID,
    balance: '999',
  };
  const record = (balance: string): GetL1ValidatorResult => ({
    ...listed,
    balance,
    subnetID: L1,
    height: '77',
  });

  it('should read its own L1 validator: the balance from getL1Validator, the price from the fee state', async () => {
    const node = new FakeNode();
    node.l1Validators.set(L1, [listed, { ...listed, nodeID: B, validationID: OTHER_L1 }]);
    node.l1Records.set(VID, record('619315200000'));
    const r = await readStakingReport(node, q);
    expect(stakingReportRequestSchema.parse(r)).toEqual(r);
    expect(r.l1).toEqual([
      {
        subnetId: L1,
        nodeId: A,
        registered: true,
        validationId: VID,
        balance: '619315200000',
        weight: '20',
        startTime: 1796000000,
        feePrice: '600',
      },
    ]);
    expect(node.asked).toContainEqual({ subnetID: L1, nodeIDs: [A] });
    expect(node.l1Asked).toEqual([VID]);
  });

  it('should say not registered when the L1 does not list it, and leave out an L1 it cannot read', async () => {
    const node = new FakeNode();
    node.l1Validators.set(L1, []);
    node.feeState = () =>
      Promise.reject(new NodeRpcError('platform.getValidatorFeeState', -32601, 'no such method'));
    const r = await readStakingReport(node, { ...q, l1s: [L1, OTHER_L1] });
    expect(r.l1).toEqual([
      {
        subnetId: L1,
        nodeId: A,
        registered: false,
        validationId: null,
        balance: null,
        weight: null,
        startTime: null,
        feePrice: null,
      },
    ]);
  });

  it('should read no L1 for a standby, nor when the node tracks none', async () => {
    const node = new FakeNode();
    node.l1Validators.set(L1, [listed]);
    expect((await readStakingReport(node, { ...q, ownNodeId: null })).l1).toBeUndefined();
    expect((await readStakingReport(node, { ...q, l1s: [] })).l1).toBeUndefined();
    expect(node.l1Asked).toEqual([]);
  });

  it('should send nothing when the node cannot answer an L1 call', async () => {
    const node = new FakeNode();
    node.l1Validators.set(L1, [listed]);
    node.getL1Validator = () => Promise.reject(new NodeUnreachable('http://node', 'timeout'));
    await expect(readStakingReport(node, q)).rejects.toThrow(NodeUnreachable);
  });
});

/** Manual clock + timers (as agent.spec.ts). */
class FakeClock {
  t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = ++this.seq;
      this.pending.set(id, { at: this.t + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => void this.pending.delete(id as number),
  };
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      const next = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next || next[1].at > target) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await settle();
  }
}
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('Agent staking reports', () => {
  const userData: UserData = {
    snowline: 1,
    controlPlaneUrl: 'http://cp.test',
    hostId: HOST,
    bootstrapToken: 'x'.repeat(40),
  };
  let id: GeneratedIdentity;
  let clock: FakeClock;
  let node: FakeNode;
  let calls: { path: string; at: number; body: Record<string, unknown> }[];
  let lease: () => LeaseResponse;
  let lookup: string[];
  let keysFor: (() => object) | null;

  beforeAll(async () => {
    id = await generateIdentity();
  });

  const start = (stakingReportSeconds?: number, trackSubnets?: string[]) => {
    clock = new FakeClock();
    node = new FakeNode();
    calls = [];
    lookup = [B];
    keysFor = null;
    lease = () => ({
      role: 'standby',
      assignment: null,
      leaseExpiresAt: new Date().toISOString(),
      leaseTtlSeconds: 45,
    });
    const fetchImpl = (async (url: string, init: RequestInit) => {
      const path = new URL(url).pathname;
      const body = JSON.parse(String(init.body)) as Record<string, unknown>;
      calls.push({ path, at: clock.t, body });
      const reply =
        path === AGENT_PATHS.register
          ? {
              hostId: HOST,
              leaseTtlSeconds: 45,
              renewIntervalSeconds: 10,
              ...(stakingReportSeconds ? { stakingReportSeconds } : {}),
            }
          : path === AGENT_PATHS.lease
            ? lease()
            : path === AGENT_PATHS.staking
              ? { lookup, reportIntervalSeconds: stakingReportSeconds }
              : {};
      if (path === AGENT_PATHS.keys) {
        const keys = keysFor?.();
        return new Response(JSON.stringify(keys ?? {}), { status: keys ? 200 : 410 });
      }
      return new Response(JSON.stringify(reply), { status: 200 });
    }) as unknown as typeof fetch;
    const driver = new SimulatedNodeDriver({ bootstrapMs: 0, now: clock.now, trackSubnets });
    const agent = new Agent({
      userData,
      instanceId: 'i-abc',
      driver,
      fetch: fetchImpl,
      now: clock.now,
      timers: clock.timers,
      standbyKeys: () => Promise.resolve(id),
      stakingNode: node,
    });
    agent.start();
    return agent;
  };
  const reports = () =>
    calls.filter((c) => c.path === AGENT_PATHS.staking).map((c) => c.body as StakingReportRequest);

  it('should report on its own channel, once a minute, while leases renew every 10 s', async () => {
    const agent = start(60);
    await clock.advance(185_000);
    await agent.stop();
    expect(calls.filter((c) => c.path === AGENT_PATHS.lease).length).toBeGreaterThanOrEqual(18);
    // The first soon after registering (its answer names what to look up), then every minute.
    const at = calls.filter((c) => c.path === AGENT_PATHS.staking).map((c) => c.at);
    expect(at.length).toBeGreaterThanOrEqual(3);
    expect(at.length).toBeLessThanOrEqual(5);
    for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(60_000);
    // A standby looks up what it was told, asks its node no info.uptime.
    expect(reports().at(-1)).toMatchObject({ generation: null, self: null, asked: [B] });
    expect(node.uptimeCalls).toBe(0);
  });

  it('should read its own validator’s uptime once it runs the assignment', async () => {
    const agent = start(60);
    lease = () => ({
      role: 'assigned',
      assignment: { validatorId: HOST, generation: 1, nodeId: id.nodeId },
      leaseExpiresAt: new Date().toISOString(),
      leaseTtlSeconds: 45,
    });
    keysFor = () => ({
      generation: 1,
      stakerCrt: id.stakerCrt,
      stakerKey: id.stakerKey,
      signerKey: id.signerKey.toString('base64'),
    });
    await clock.advance(75_000);
    await agent.stop();
    expect(reports().at(-1)).toMatchObject({
      generation: 1,
      nodeId: id.nodeId,
      asked: [id.nodeId, B],
      self: { weightedAveragePercentage: 99.9 },
    });
    expect(node.uptimeCalls).toBeGreaterThan(0);
  });

  it('should read its own L1 validator in the L1 its node tracks', async () => {
    const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
    const VID = '29sdTmk9ez2Asy7Jso3q3eqZnY2YgkFZsXbtUYaGzmYVn6dgnE';
    const agent = start(60, [L1]);
    const listed = { nodeID: id.nodeId, weight: '20', startTime: '1796000000', validationID: VID };
    node.l1Validators.set(L1, [listed]);
    node.l1Records.set(VID, { ...listed, balance: '5120', subnetID: L1, height: '1' });
    lease = () => ({
      role: 'assigned',
      assignment: { validatorId: HOST, generation: 1, nodeId: id.nodeId },
      leaseExpiresAt: new Date().toISOString(),
      leaseTtlSeconds: 45,
    });
    keysFor = () => ({
      generation: 1,
      stakerCrt: id.stakerCrt,
      stakerKey: id.stakerKey,
      signerKey: id.signerKey.toString('base64'),
    });
    await clock.advance(75_000);
    await agent.stop();
    expect(reports().at(-1)?.l1).toEqual([
      {
        subnetId: L1,
        nodeId: id.nodeId,
        registered: true,
        validationId: VID,
        balance: '5120',
        weight: '20',
        startTime: 1796000000,
        feePrice: '600',
      },
    ]);
  });

  it('should look a new NodeID up at the next renewal, not a whole interval later', async () => {
    const agent = start(60);
    await clock.advance(15_000);
    lookup = [B, C];
    await clock.advance(60_000);
    await clock.advance(15_000);
    await agent.stop();
    const [, second, third] = calls.filter((c) => c.path === AGENT_PATHS.staking);
    expect(third!.at - second!.at).toBeLessThanOrEqual(10_000);
    expect((third!.body as StakingReportRequest).asked).toEqual([B, C]);
  });

  it('should report nothing when the control plane announces no staking channel', async () => {
    const agent = start(undefined);
    await clock.advance(130_000);
    await agent.stop();
    expect(reports()).toEqual([]);
  });

  it('should renew on time while the node hangs on a staking call', async () => {
    const agent = start(20);
    node.timestamp = () => new Promise<Date>(() => undefined);
    await clock.advance(120_000);
    await agent.stop();
    const leases = calls.filter((c) => c.path === AGENT_PATHS.lease).map((c) => c.at);
    expect(leases.length).toBeGreaterThanOrEqual(12);
    for (let i = 1; i < leases.length; i++)
      expect(leases[i]! - leases[i - 1]!).toBeLessThanOrEqual(10_000);
  });
});
