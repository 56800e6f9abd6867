import { SimulatedNodeDriver } from '@snowline/agent';
import {
  AvalancheNodeClient,
  generateIdentity,
  type GeneratedIdentity,
  NodeRpcError,
  type PermissionlessValidator,
} from '@snowline/avalanche';
import { SIM_IMAGE, SIM_SECURITY_GROUP, vswitchForZone } from '../../apps/ecs-sim/src/catalog';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';

/** 1 ms of wall time = 1 s on the simulated P-chain. */
const TIME_SCALE = 0.001;

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ecs-sim P-chain (through AvalancheNodeClient)', () => {
  let sim: EcsSim;
  const identities = new Map<string, GeneratedIdentity>();
  let validator: GeneratedIdentity;
  let standby: GeneratedIdentity;

  beforeAll(async () => {
    [validator, standby] = await Promise.all([generateIdentity(), generateIdentity()]);
    identities.set('validator', validator);
    identities.set('standby', standby);
    sim = await startEcsSim({
      port: 0,
      accessKeyId: 'k',
      accessKeySecret: 's',
      timeScale: TIME_SCALE,
      // Each instance runs a simulated AvalancheGo under the identity its UserData names.
      hostFactory: async (ctx) => {
        const driver = new SimulatedNodeDriver({ bootstrapMs: 0 });
        await driver.start(identities.get(ctx.userData)!);
        return {
          stop: () => void driver.stop(),
          handle: (m, p, b) => driver.handle(m, p, b),
          report: () => driver.report(),
        };
      },
    });
  });
  afterAll(() => sim.close());

  const launch = async (zoneId: string, who: string): Promise<string> => {
    const [id] = sim.state.run({
      regionId: sim.state.region,
      zoneId,
      instanceType: 'ecs.g7.2xlarge',
      imageId: SIM_IMAGE,
      vSwitchId: vswitchForZone(zoneId),
      securityGroupId: SIM_SECURITY_GROUP,
      amount: 1,
      tags: [],
      userData: who,
    });
    await waitFor(async () => (sim.state.instances.get(id!)?.host ? true : undefined));
    return id!;
  };
  const client = (instanceId: string) =>
    new AvalancheNodeClient(`${sim.url}/_nodes/${instanceId}`, { timeoutMs: 1000 });
  const register = (body: Record<string, unknown>) =>
    fetch(`${sim.url}/_sim/pchain/validators`, { method: 'POST', body: JSON.stringify(body) });
  const seen = async (from: string): Promise<PermissionlessValidator> => {
    const r = await client(from).getCurrentValidators({ nodeIDs: [validator.nodeId] });
    return r.validators[0] as PermissionlessValidator;
  };

  it('should refuse a wrong PoP, register a right one and report uptime as the network sees it', async () => {
    const a = await launch('cn-hongkong-b', 'validator');
    const b = await launch('cn-hongkong-c', 'standby');
    await expect(client(a).uptime()).rejects.toThrow(NodeRpcError);

    const pchainNow = await client(a).getTimestamp();
    expect(pchainNow.getTime()).toBeGreaterThanOrEqual(Date.now() - 1000);
    const tx = {
      nodeId: validator.nodeId,
      blsPublicKey: validator.blsPublicKey,
      proofOfPossession: validator.proofOfPossession,
      weight: '2000000000000',
      endTime: Math.floor(pchainNow.getTime() / 1000) + 48 * 3600,
    };
    const wrong = await register({ ...tx, proofOfPossession: standby.proofOfPossession });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ detail: 'invalid proof of possession' });
    const ok = await register(tx);
    expect(ok.status).toBe(201);
    const { txID } = (await ok.json()) as { txID: string };

    await sleep(300);
    const up = await seen(b);
    expect(up).toMatchObject({
      txID,
      nodeID: validator.nodeId,
      weight: '2000000000000',
      connected: true,
      signer: { publicKey: validator.blsPublicKey, proofOfPossession: validator.proofOfPossession },
      delegators: [],
    });
    expect(Number(up.uptime)).toBeGreaterThan(99);
    const self = await client(a).uptime();
    expect(Number(self.weightedAveragePercentage)).toBeGreaterThan(99);
    expect(self.rewardingStakePercentage).toBe('100.0000');

    // The validator's zone goes dark: peers (the standby's node) see it disconnected, uptime falls.
    const fault = (await (
      await fetch(`${sim.url}/_sim/faults`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'zone-partition', zone: 'cn-hongkong-b' }),
      })
    ).json()) as { id: string };
    await sleep(600);
    const down = await seen(b);
    expect(down.connected).toBe(false);
    expect(Number(down.uptime)).toBeLessThan(70);
    await expect(client(a).uptime()).rejects.toThrow(); // unreachable, not "0 %"
    await fetch(`${sim.url}/_sim/faults/${fault.id}`, { method: 'DELETE' });

    // Back up: uptime accrues again.
    await sleep(600);
    const back = await seen(b);
    expect(back.connected).toBe(true);
    expect(Number(back.uptime)).toBeGreaterThan(Number(down.uptime));

    // A second node with the same keys: the network's view of it suffers. The ratio to beat is
    // read once both nodes claim the NodeID: while the second one boots, the first still earns
    // full credit (on a busy machine that alone outweighed 600 ms of half credit).
    const claimants = async () =>
      (
        (await (await fetch(`${sim.url}/_sim/pchain/validators`)).json()) as Array<{
          claimants: number;
        }>
      )[0]!.claimants;
    const c = await launch('cn-hongkong-d', 'validator');
    for (let i = 0; i < 100 && (await claimants()) < 2; i++) await sleep(50);
    const before = Number((await seen(b)).uptime);
    await sleep(600);
    const dup = await seen(b);
    expect(dup.connected).toBe(true);
    expect(await claimants()).toBe(2);
    // Half credit: the ratio moves toward 50 % from where it was.
    expect(Number(dup.uptime)).toBeLessThan(before);
    sim.state.instances.get(c)!.host!.stop();
  });

  it('should serve an L1 validator whose balance pays the continuous fee', async () => {
    const a = await launch('cn-hongkong-c', 'standby');
    const subnetID = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
    const res = await register({
      nodeId: standby.nodeId,
      blsPublicKey: standby.blsPublicKey,
      proofOfPossession: standby.proofOfPossession,
      weight: 20,
      subnetId: subnetID,
      balance: String(512n * 3600n * 24n * 30n),
    });
    expect(res.status).toBe(201);
    const { validationID } = (await res.json()) as { validationID: string };
    const first = await client(a).getL1Validator(validationID);
    expect(first).toMatchObject({ nodeID: standby.nodeId, subnetID, weight: '20' });
    await sleep(200);
    const second = await client(a).getL1Validator(validationID);
    // ≥ 100 P-chain seconds at 512 nAVAX/s.
    expect(BigInt(first.balance!) - BigInt(second.balance!)).toBeGreaterThanOrEqual(51_200n);
    const l1 = await client(a).getCurrentValidators({ subnetID });
    expect(l1.validators).toEqual([expect.objectContaining({ validationID })]);
  });
});
