import { randomUUID } from 'node:crypto';
import {
  AGENT_PATHS,
  generateHostKeys,
  hostPublicKeys,
  signRequest,
  stakingReportResponseSchema,
  type HostKeys,
  type StakingReportRequest,
} from '@snowline/agent';
import { evaluateStaking } from '@snowline/domain';
import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(60_000);

const A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const B = 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ';
const C = 'NodeID-NFBbbJ4qCmNaCzeW7sxErhvWqvEQMnYcN';
const TX = '2JHTv6kDDw6Yg3Xb8PXwkRszQbiRJvd1TuVuoJx7a3gDxLWvY8';
const START = 1_796_000_000;

/**
 * Issue 22 point 2: the staking channel. A host signs its report like every protocol-2 call; the
 * API keeps only what it was asked about (and its own validator's view, while it holds it), and
 * answers with what to look up next.
 */
describe('POST /v1/agent/staking', () => {
  let app: ApiApp;
  let keys: HostKeys;
  let standbyId: string;

  const post = (hostId: string, body: object, signed = true) => {
    const text = JSON.stringify(body);
    return fetch(`${app.url}${AGENT_PATHS.staking}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signed
          ? {
              authorization: signRequest(keys, {
                method: 'POST',
                path: AGENT_PATHS.staking,
                hostId,
                body: text,
              }),
            }
          : {}),
      },
      body: text,
    });
  };
  const report = (
    hostId: string,
    over: Partial<StakingReportRequest> = {},
  ): StakingReportRequest => ({
    hostId,
    generation: null,
    nodeId: C,
    pchainTime: new Date(START * 1000 + 3_600_000).toISOString(),
    self: null,
    asked: [A, B],
    validators: [
      {
        nodeId: A,
        txId: TX,
        startTime: START,
        endTime: START + 48 * 3600,
        weight: '2000000000000',
        uptime: 97.5,
        connected: true,
        autoRenew: false,
      },
    ],
    ...over,
  });
  const host = async (over: Record<string, unknown>) => {
    const id = randomUUID();
    await app.repos.hosts.insert({
      id,
      role: 'standby',
      zone: 'cn-hongkong-c',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${id}`,
      instanceId: `i-${id.slice(0, 8)}`,
      agentProtocol: 2,
      agentSigningKey: hostPublicKeys(keys).signingKey,
      agentEncryptionKey: hostPublicKeys(keys).encryptionKey,
      ...over,
    });
    return id;
  };

  beforeAll(async () => {
    app = await startApiApp('staking_report', { STAKING_REPORT_SECONDS: '30' });
    keys = generateHostKeys();
    standbyId = await host({});
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('should refuse an unsigned report', async () => {
    expect((await post(standbyId, report(standbyId), false)).status).toBe(401);
  });

  it('should keep nothing a host was not asked about', async () => {
    const res = await post(standbyId, report(standbyId));
    expect(res.status).toBe(200);
    expect(stakingReportResponseSchema.parse(await res.json())).toEqual({
      lookup: [],
      reportIntervalSeconds: 30,
    });
    expect((await app.repos.staking.observationsOf([A, B])).size).toBe(0);
  });

  it('should keep what it was asked, registered or not, and answer what to look up next', async () => {
    await app.repos.staking.setLookups(new Map([[standbyId, [A, B]]]));
    const res = await post(standbyId, report(standbyId));
    expect(await res.json()).toEqual({ lookup: [A, B], reportIntervalSeconds: 30 });
    const seen = await app.repos.staking.observationsOf([A, B]);
    expect(seen.get(A)).toEqual([
      expect.objectContaining({
        kind: 'peer',
        registered: true,
        pchainTime: START * 1000 + 3_600_000,
        uptime: 0.975,
        stake: {
          txId: TX,
          startMs: START * 1000,
          endMs: (START + 48 * 3600) * 1000,
          weight: '2000000000000',
          autoRenew: false,
        },
      }),
    ]);
    // Asked and not listed: not a current validator, as that node sees it.
    expect(seen.get(B)).toEqual([expect.objectContaining({ registered: false, stake: null })]);
    // The view the worker makes of it.
    const view = evaluateStaking('fuji', seen.get(A)!, Date.now(), {
      staleAfterMs: 90_000,
      atRiskFraction: 0.5,
      periodEndingMs: 86_400_000,
    });
    expect(view).toMatchObject({ status: 'ok', requirement: 0.9, uptimeSource: 'peer' });
    expect(view.budget!.downtimeMs).toBe(Math.round(0.025 * 3_600_000));
  });

  it('should replace a host’s rows with its next report', async () => {
    await post(standbyId, report(standbyId, { asked: [A], validators: [] }));
    const seen = await app.repos.staking.observationsOf([A, B]);
    expect(seen.get(A)).toEqual([expect.objectContaining({ registered: false })]);
    expect(seen.has(B)).toBe(false);
  });

  it('should count a host’s own validator as `self` only while it holds the current generation', async () => {
    const identity = await app.repos.identities.insert({
      projectId: app.defaultProjectId,
      nodeId: A,
      blsPublicKey: '0x' + '00'.repeat(48),
      proofOfPossession: '0x' + '00'.repeat(96),
      wrappedDataKey: Buffer.from('x'),
      sealedKeys: Buffer.from('x'),
      masterKeyId: 'test',
      imported: true,
    });
    const validatorId = randomUUID();
    const ownId = await host({ role: 'assigned', network: null, generation: 2 });
    await app.repos.validators.insert({
      id: validatorId,
      projectId: app.defaultProjectId,
      name: 'self-view',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'active',
      generation: 2,
      identityId: identity.id,
      nodeId: A,
      hostId: ownId,
    });
    await app.repos.hosts.update(ownId, { validatorId, projectId: app.defaultProjectId });
    const self = { rewardingStakePercentage: 100, weightedAveragePercentage: 99 };
    const mine = report(ownId, { generation: 2, nodeId: A, asked: [A], self });
    await post(ownId, mine);
    let rows = (await app.repos.staking.observationsOf([A])).get(A)!;
    expect(rows).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'self', uptime: 0.99 })]),
    );
    // A former holder (an older generation) speaks for nobody.
    await post(ownId, { ...mine, generation: 1 });
    rows = (await app.repos.staking.observationsOf([A])).get(A)!;
    expect(rows.filter((r) => r.kind === 'self')).toEqual([]);
  });
});
