import {
  generateIdentity,
  GeneratedIdentity,
  getNodeIdResultSchema,
  getNodeVersionResultSchema,
  healthResponseSchema,
  isBootstrappedResultSchema,
  jsonRpcResponseSchema,
  verifyProofOfPossession,
} from '@snowline/avalanche';
import { describeNodeDriverContract } from './node-driver.contract';
import { SimulatedNodeDriver } from './simulated-node-driver';

describeNodeDriverContract('SimulatedNodeDriver', async () => {
  let t = 1_000_000;
  const driver = new SimulatedNodeDriver({ bootstrapMs: 60_000, now: () => t });
  return {
    driver,
    bootstrap: async () => {
      t += 60_000;
    },
  };
});

describe(SimulatedNodeDriver.name, () => {
  let t: number;
  let driver: SimulatedNodeDriver;
  let id: GeneratedIdentity;
  const rpc = (method: string, params?: unknown) =>
    driver.handle('POST', '/ext/info', { jsonrpc: '2.0', id: 7, method, params });

  beforeAll(async () => {
    id = await generateIdentity();
  });
  beforeEach(() => {
    t = 5_000;
    driver = new SimulatedNodeDriver({ bootstrapMs: 10_000, now: () => t });
  });

  it('should answer 503 everywhere while stopped', async () => {
    for (const p of ['/ext/health', '/ext/health/readiness', '/ext/health/liveness', '/ext/info']) {
      expect((await driver.handle(p === '/ext/info' ? 'POST' : 'GET', p, {})).status).toBe(503);
    }
  });

  it('should be live but not ready until bootstrapMs, then healthy', async () => {
    await driver.start(id);
    const live = await driver.handle('GET', '/ext/health/liveness', undefined);
    expect(live.status).toBe(200);
    healthResponseSchema.parse(live.body);

    const early = await driver.handle('GET', '/ext/health/readiness', undefined);
    expect(early.status).toBe(503);
    expect(healthResponseSchema.parse(early.body).healthy).toBe(false);

    t += 10_000;
    const ready = await driver.handle('GET', '/ext/health', undefined);
    expect(ready.status).toBe(200);
    expect(healthResponseSchema.parse(ready.body).healthy).toBe(true);
  });

  it('should serve info.getNodeID with a PoP that verifies', async () => {
    await driver.start(id);
    const res = await rpc('info.getNodeID');
    const body = jsonRpcResponseSchema(getNodeIdResultSchema).parse(res.body);
    if (!('result' in body)) throw new Error('expected a result');
    expect(body.id).toBe(7);
    expect(body.result.nodeID).toBe(id.nodeId);
    expect(body.result.nodePOP).toEqual({
      publicKey: id.blsPublicKey,
      proofOfPossession: id.proofOfPossession,
    });
    expect(
      verifyProofOfPossession(
        body.result.nodePOP!.publicKey,
        body.result.nodePOP!.proofOfPossession,
      ),
    ).toBe(true);
  });

  it('should serve info.isBootstrapped and info.getNodeVersion per the schemas', async () => {
    await driver.start(id);
    const before = jsonRpcResponseSchema(isBootstrappedResultSchema).parse(
      (await rpc('info.isBootstrapped', { chain: 'P' })).body,
    );
    expect(before).toMatchObject({ result: { isBootstrapped: false } });
    t += 10_000;
    expect((await rpc('info.isBootstrapped', { chain: 'X' })).body).toMatchObject({
      result: { isBootstrapped: true },
    });
    jsonRpcResponseSchema(getNodeVersionResultSchema).parse(
      (await rpc('info.getNodeVersion')).body,
    );
  });

  it('should stop validating and answer unhealthy once its version missed an activation', async () => {
    let activated = false;
    driver = new SimulatedNodeDriver({
      bootstrapMs: 10_000,
      now: () => t,
      outdated: (v) => (activated && v === '1.14.2' ? 'missed Helicon (needs 1.15.0)' : null),
    });
    driver.setRelease('1.14.2');
    await driver.start(id);
    t += 10_000;
    expect(await driver.report()).toMatchObject({ healthy: true, version: '1.14.2', error: null });
    expect(driver.validating()).toBe(true);
    activated = true;
    expect(await driver.report()).toMatchObject({
      running: true,
      bootstrapped: true,
      healthy: false,
      error: 'missed Helicon (needs 1.15.0)',
    });
    expect(driver.validating()).toBe(false);
    const health = await driver.handle('GET', '/ext/health', undefined);
    expect(health.status).toBe(503);
    const body = healthResponseSchema.parse(health.body);
    expect(body.checks.network?.error?.message).toBe(
      'network layer is unhealthy reason: not connected to a minimum of 1 peer(s) only 0',
    );
  });

  it('should answer getNodeVersion with the release core, as a -fuji build does', async () => {
    driver.setRelease('1.15.0-fuji');
    await driver.start(id);
    const res = await rpc('info.getNodeVersion');
    expect(getNodeVersionResultSchema.parse((res.body as { result: unknown }).result).version).toBe(
      'avalanchego/1.15.0',
    );
  });

  it('should answer JSON-RPC errors with HTTP 200', async () => {
    await driver.start(id);
    const unknownChain = await rpc('info.isBootstrapped', { chain: 'Q' });
    expect(unknownChain.status).toBe(200);
    expect(unknownChain.body).toMatchObject({ error: { code: -32000 } });
    expect((await rpc('info.nope')).body).toMatchObject({ error: { code: -32601 } });
    expect((await driver.handle('POST', '/ext/info', { nope: true })).body).toMatchObject({
      error: { code: -32600 },
    });
  });

  it('should 404 unknown paths and 405 GET on /ext/info', async () => {
    await driver.start(id);
    expect((await driver.handle('GET', '/ext/bc/P', undefined)).status).toBe(404);
    expect((await driver.handle('GET', '/ext/info', undefined)).status).toBe(405);
  });
});
