import { randomBytes, randomUUID } from 'node:crypto';
import Ecs20140526, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import {
  AGENT_PATHS,
  generateHostKeys,
  hostPublicKeys,
  keyFingerprint,
  keysAad,
  openFromControlPlane,
  signRequest,
  stakingKeysSchema,
  userDataSchema,
  type HostKeys,
} from '@snowline/agent';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { HostEntity, sha256Hex, ValidatorEntity } from '@snowline/persistence';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import { idleNodeReport } from '../support/agent';
import { startApiApp, type ApiApp } from '../support/api-app';
import { instanceIdentityFor, launchProtocol2Host } from '../support/protocol2-host';

jest.setTimeout(90_000);

const KEY_ID = 'hostcred-key';
const SECRET = 'hostcred-secret';
type Json = Record<string, unknown>;

/**
 * Issue 18 point 1: a host identity bound to the instance. The bootstrap token in UserData is
 * single-use and short-lived; the agent's own key signs every later request; the staking keys come
 * encrypted to it; a reimaged instance proves itself with the cloud's signed identity document; and
 * whoever read UserData (here through the real ECS SDK's DescribeUserData) can open nothing, nor
 * fence the healthy holder. Real API, Postgres and simulator; no agent (this test speaks for it).
 */
describe('host credentials (agent protocol 2)', () => {
  let sim: EcsSim;
  let h: ApiApp;
  let ecs: Ecs20140526;
  let instanceId: string;
  let host: HostEntity;
  let token: string;
  let agentKeys: HostKeys;

  const post = (path: string, body: unknown, authorization?: string) =>
    h.api(path, {
      method: 'POST',
      key: null,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });
  const signed = (keys: HostKeys, path: string, body: unknown, hostId = host.id, now?: number) => {
    const text = JSON.stringify(body);
    return h.api(path, {
      method: 'POST',
      key: null,
      headers: {
        'content-type': 'application/json',
        authorization: signRequest(keys, { method: 'POST', path, hostId, body: text, now }),
      },
      body: text,
    });
  };
  const identityFor = (keys: HostKeys, hostId = host.id, id = instanceId) =>
    instanceIdentityFor(sim.url, keys, hostId, id);
  const registerBody = (keys: HostKeys, extra: Json = {}) => ({
    hostId: host.id,
    instanceId,
    ...hostPublicKeys(keys),
    ...extra,
  });
  const lease = (generation: number | null = null) => ({
    hostId: host.id,
    generation,
    node: idleNodeReport(),
  });
  const reload = () => h.repos.hosts.findById(host.id) as Promise<HostEntity>;
  const events = async (type: string) =>
    (await h.repos.ds.query(`SELECT message FROM events WHERE type = $1 AND host_id = $2`, [
      type,
      host.id,
    ])) as { message: string }[];

  const launchHost = () => launchProtocol2Host(ecs, sim.url, h);

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeScale: 0.05,
      hostFactory: () => null,
    });
    h = await startApiApp('host_credentials', {
      ECS_SIM_HOST: '127.0.0.1',
      ECS_SIM_PORT: String(sim.port),
      LEASE_TTL_SECONDS: '6',
      LEASE_RENEW_SECONDS: '1',
      AGENT_AUTH_FAILURES_PER_MINUTE: '1000',
    });
    ecs = new Ecs20140526(
      new $OpenApiUtil.Config({
        accessKeyId: KEY_ID,
        accessKeySecret: SECRET,
        regionId: 'cn-hongkong',
        endpoint: `127.0.0.1:${sim.port}`,
        protocol: 'http',
      }),
    );
    ({ host, token, instanceId } = await launchHost());
    agentKeys = generateHostKeys();
  });
  afterAll(async () => {
    await h?.stop();
    await sim?.close();
  });

  it('should let anyone allowed DescribeUserData read the bootstrap token (what this defends against)', async () => {
    const res = await ecs.describeUserData(
      new $Ecs.DescribeUserDataRequest({ regionId: 'cn-hongkong', instanceId }),
    );
    const read = userDataSchema.parse(
      JSON.parse(Buffer.from(res.body!.userData!, 'base64').toString('utf8')),
    );
    expect(read).toMatchObject({ snowline: 2, hostId: host.id, bootstrapToken: token });
  });

  it('should refuse a registration without the host keys or with a forged identity document', async () => {
    const noKeys = await post(
      AGENT_PATHS.register,
      { hostId: host.id, instanceId },
      `Bearer ${token}`,
    );
    expect(noKeys.status).toBe(400);
    expect(((await noKeys.json()) as Json).detail).toMatch(/signingKey and encryptionKey/);
    // An identity document signed for another key's audience does not verify.
    const other = generateHostKeys();
    const wrongAudience = await post(
      AGENT_PATHS.register,
      registerBody(agentKeys, { instanceIdentity: await identityFor(other) }),
      `Bearer ${token}`,
    );
    expect(wrongAudience.status).toBe(401);
    expect(((await wrongAudience.json()) as Json).detail).toMatch(
      /identity document did not verify/,
    );
    expect((await reload()).bootstrapTokenHash).toBe(sha256Hex(token)); // nothing spent
  });

  it('should bind the agent key with the token and the identity document, and spend the token', async () => {
    const res = await post(
      AGENT_PATHS.register,
      registerBody(agentKeys, { instanceIdentity: await identityFor(agentKeys) }),
      `Bearer ${token}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ hostId: host.id, protocol: 2 });
    const row = await reload();
    expect(row).toMatchObject({
      bootstrapTokenHash: null,
      bootstrapTokenSealed: null,
      agentSigningKey: hostPublicKeys(agentKeys).signingKey,
      agentEncryptionKey: hostPublicKeys(agentKeys).encryptionKey,
    });
    expect(row.registeredAt).not.toBeNull();
    expect((await events('host.registered'))[0].message).toContain(
      keyFingerprint(hostPublicKeys(agentKeys).signingKey),
    );
  });

  it('should open nothing to the spent token: register, lease and keys all 401', async () => {
    const attacker = generateHostKeys();
    const again = await post(AGENT_PATHS.register, registerBody(attacker), `Bearer ${token}`);
    expect(again.status).toBe(401);
    const leased = await post(AGENT_PATHS.lease, lease(null), `Bearer ${token}`);
    expect(leased.status).toBe(401);
    const keys = await post(
      AGENT_PATHS.keys,
      { hostId: host.id, generation: 1 },
      `Bearer ${token}`,
    );
    expect(keys.status).toBe(401);
    // Nor does a request the attacker signs with a key of its own.
    expect((await signed(attacker, AGENT_PATHS.lease, lease(null))).status).toBe(401);
    const row = await reload();
    expect(row.fenced).toBe(false);
    expect(row.leaseExpiresAt).toBeNull(); // nothing renewed, nothing re-armed
  });

  it('should renew a lease signed by the bound key, and refuse a stale, altered or misaddressed one', async () => {
    expect((await signed(agentKeys, AGENT_PATHS.lease, lease(null))).status).toBe(200);
    const stale = await signed(
      agentKeys,
      AGENT_PATHS.lease,
      lease(null),
      host.id,
      Date.now() - 600_000,
    );
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as Json).detail).toMatch(/time sync/);
    // The signature covers the body: the same header over another body fails.
    const text = JSON.stringify(lease(null));
    const header = signRequest(agentKeys, {
      method: 'POST',
      path: AGENT_PATHS.lease,
      hostId: host.id,
      body: text,
    });
    const altered = await h.api(AGENT_PATHS.lease, {
      method: 'POST',
      key: null,
      headers: { 'content-type': 'application/json', authorization: header },
      body: text.replace('"generation":null', '"generation":7'),
    });
    expect(altered.status).toBe(401);
    // ...and the path: a body signed for the lease route is no keys request.
    const keysText = JSON.stringify({ hostId: host.id, generation: 1 });
    const moved = await h.api(AGENT_PATHS.keys, {
      method: 'POST',
      key: null,
      headers: {
        'content-type': 'application/json',
        authorization: signRequest(agentKeys, {
          method: 'POST',
          path: AGENT_PATHS.lease,
          hostId: host.id,
          body: keysText,
        }),
      },
      body: keysText,
    });
    expect(moved.status).toBe(401);
    // A restarted agent re-registers with its key alone.
    const restarted = await signed(agentKeys, AGENT_PATHS.register, {
      hostId: host.id,
      instanceId,
    });
    expect(restarted.status).toBe(200);
    expect(await restarted.json()).toMatchObject({ protocol: 2 });
  });

  it('should hand the staking keys encrypted to the host key, opened only by it', async () => {
    const identity: GeneratedIdentity = await generateIdentity();
    const created = await h.api('/v1/validators', {
      method: 'POST',
      json: {
        network: 'fuji',
        identity: {
          stakerCrt: identity.stakerCrt,
          stakerKey: identity.stakerKey,
          signerKey: identity.signerKey.toString('base64'),
        },
      },
    });
    expect(created.status).toBe(202);
    const v = (await created.json()) as { id: string };
    // As a failover onto this standby would leave it: assigned, generation 1.
    await h.repos.ds.manager.update(
      ValidatorEntity,
      { id: v.id },
      {
        state: 'failing_over',
        hostId: host.id,
        generation: 1,
      },
    );
    await h.repos.hosts.update(host.id, { role: 'assigned', validatorId: v.id, generation: 1 });
    const res = await signed(agentKeys, AGENT_PATHS.keys, { hostId: host.id, generation: 1 });
    const text = await res.text();
    expect(res.status).toBe(200);
    for (const secret of [identity.stakerKey, identity.signerKey.toString('base64'), 'PRIVATE KEY'])
      expect(text).not.toContain(secret);
    const body = JSON.parse(text) as {
      generation: number;
      sealed: Parameters<typeof openFromControlPlane>[1];
    };
    const opened = stakingKeysSchema.parse(
      JSON.parse(openFromControlPlane(agentKeys, body.sealed, keysAad(host.id, 1)).toString()),
    );
    expect(opened).toEqual({
      stakerCrt: identity.stakerCrt,
      stakerKey: identity.stakerKey,
      signerKey: identity.signerKey.toString('base64'),
    });
    // Another host's key, or this one's under another generation, opens nothing.
    expect(() =>
      openFromControlPlane(generateHostKeys(), body.sealed, keysAad(host.id, 1)),
    ).toThrow();
    expect(() => openFromControlPlane(agentKeys, body.sealed, keysAad(host.id, 2))).toThrow();
  });

  it('should let a reimaged instance bind a new key with its identity document once the old key is silent', async () => {
    const reimaged = generateHostKeys();
    const body = () => ({
      hostId: host.id,
      instanceId,
      ...hostPublicKeys(reimaged),
    });
    // The bound key still holds a live lease: no one on the instance can take its place yet.
    const early = await post(AGENT_PATHS.register, {
      ...body(),
      instanceIdentity: await identityFor(reimaged),
    });
    expect(early.status).toBe(425);
    expect(((await early.json()) as Json).retryAfterMs).toBeGreaterThan(0);
    // An identity document of another instance does not prove this one.
    const elsewhere = await launchHost();
    const foreign = await post(AGENT_PATHS.register, {
      ...body(),
      instanceIdentity: await identityFor(reimaged, host.id, elsewhere.instanceId),
    });
    expect(foreign.status).toBe(401);
    // The old key goes silent for a lease (the instance was reimaged): the new key binds.
    await h.repos.ds.query(
      `UPDATE hosts SET lease_expires_at = now() - interval '1 second',
                        agent_key_bound_at = now() - interval '1 hour' WHERE id = $1`,
      [host.id],
    );
    const rebound = await post(AGENT_PATHS.register, {
      ...body(),
      instanceIdentity: await identityFor(reimaged),
    });
    expect(rebound.status).toBe(200);
    expect(await events('host.rebound')).toHaveLength(1);
    expect((await signed(agentKeys, AGENT_PATHS.lease, lease(null))).status).toBe(401);
    expect((await signed(reimaged, AGENT_PATHS.lease, lease(null))).status).toBe(200);
  });

  it('should refuse an expired bootstrap token', async () => {
    const late = await launchHost();
    await h.repos.ds.query(
      `UPDATE hosts SET bootstrap_expires_at = now() - interval '1 second' WHERE id = $1`,
      [late.host.id],
    );
    const keys = generateHostKeys();
    const res = await post(
      AGENT_PATHS.register,
      { hostId: late.host.id, instanceId: late.instanceId, ...hostPublicKeys(keys) },
      `Bearer ${late.token}`,
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).detail).toMatch(/expired/);
  });

  it('should keep a protocol-1 host (launched before host credentials) working on its token', async () => {
    const legacyToken = randomBytes(32).toString('base64url');
    const legacy = await h.repos.hosts.insert({
      role: 'standby',
      zone: 'cn-hongkong-c',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${randomUUID()}`,
      instanceId: `i-legacy${randomBytes(6).toString('hex')}`,
      bootstrapTokenHash: sha256Hex(legacyToken),
      agentProtocol: 1,
    });
    const reg = await post(
      AGENT_PATHS.register,
      { hostId: legacy.id, instanceId: legacy.instanceId },
      `Bearer ${legacyToken}`,
    );
    expect(reg.status).toBe(200);
    expect(await reg.json()).toMatchObject({ protocol: 1 });
    const renewed = await post(
      AGENT_PATHS.lease,
      { hostId: legacy.id, generation: null, node: idleNodeReport() },
      `Bearer ${legacyToken}`,
    );
    expect(renewed.status).toBe(200);
  });
});
