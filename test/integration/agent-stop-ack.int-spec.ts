import { randomBytes, randomUUID } from 'node:crypto';
import { generateIdentity } from '@snowline/avalanche';
import { sha256Hex } from '@snowline/persistence';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

/**
 * A planned move's hand-over (issue 23): the fenced old holder acknowledges that its node exited, and
 * the new holder's keys are served on that acknowledgment instead of after the old lease ran out.
 */
describe('POST /v1/agent/stopped (stop acknowledgments)', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('agent_stop_ack');
  }, 60_000);
  afterAll(async () => h?.stop());

  const agent = (path: string, token: string, json: unknown) =>
    h.api(`/v1/agent/${path}`, {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${token}` },
      json,
    });

  async function hostFor(validatorId: string, generation: number, leaseMs: number) {
    const token = randomBytes(32).toString('base64url');
    const host = await h.repos.hosts.insert({
      role: 'assigned',
      validatorId,
      zone: 'cn-hongkong-b',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: `sl-${randomUUID()}`,
      instanceId: `i-${randomBytes(6).toString('hex')}`,
      bootstrapTokenHash: sha256Hex(token),
      agentProtocol: 1,
      generation,
    });
    await h.repos.hosts.update(host.id, {
      registeredAt: new Date(),
      leaseExpiresAt: new Date(Date.now() + leaseMs),
    });
    return { host, token };
  }

  it('should serve the new holder its keys on the old holder acknowledging its stop', async () => {
    const id = await generateIdentity();
    const res = await h.api('/v1/validators', {
      method: 'POST',
      json: {
        network: 'fuji',
        identity: {
          stakerCrt: id.stakerCrt,
          stakerKey: id.stakerKey,
          signerKey: id.signerKey.toString('base64'),
        },
      },
    });
    expect(res.status).toBe(202);
    const v = (await res.json()) as { id: string };
    // The old holder runs generation 1 with a fresh lease; the move gave generation 2 to a standby.
    const old = await hostFor(v.id, 1, 45_000);
    const next = await hostFor(v.id, 2, 45_000);
    await h.repos.ds.query(
      `UPDATE validators SET state = 'failing_over', host_id = $2, generation = 2 WHERE id = $1`,
      [v.id, next.host.id],
    );
    const keys = () => agent('keys', next.token, { hostId: next.host.id, generation: 2 });

    // The old lease has 45 s left: too early, but ask again in a second (an ack may come any moment).
    const early = await keys();
    expect(early.status).toBe(425);
    expect(((await early.json()) as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(
      1_000,
    );

    // Not fenced yet: its word counts for nothing.
    const unfenced = await agent('stopped', old.token, { hostId: old.host.id, generation: 1 });
    expect(unfenced.status).toBe(409);

    // Its next renewal is refused (generation 1 is stale): fenced for good.
    const lease = await agent('lease', old.token, {
      hostId: old.host.id,
      generation: 1,
      node: {
        running: true,
        nodeId: id.nodeId,
        healthy: true,
        bootstrapped: true,
        observedAt: new Date().toISOString(),
        error: null,
      },
    });
    expect(lease.status).toBe(409);

    // An acknowledgment that does not cover its last generation does not count.
    const stale = await agent('stopped', old.token, { hostId: old.host.id, generation: 0 });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as Json).detail).toContain('does not cover');
    expect((await keys()).status).toBe(425);

    // Bad input: 400, nothing recorded.
    const bad = await agent('stopped', old.token, { hostId: old.host.id, generation: -1 });
    expect(bad.status).toBe(400);
    // Another host's token cannot speak for it.
    expect(
      (await agent('stopped', next.token, { hostId: old.host.id, generation: 1 })).status,
    ).toBe(401);

    const ack = await agent('stopped', old.token, { hostId: old.host.id, generation: 1 });
    expect(ack.status).toBe(204);
    const granted = await keys();
    expect(granted.status).toBe(200);
    expect(((await granted.json()) as { stakerCrt: string }).stakerCrt).toBe(id.stakerCrt);

    const events = (await h.repos.ds.query(
      `SELECT type, host_id AS "hostId", data FROM events WHERE validator_id = $1 AND type = 'host.stop_acknowledged'`,
      [v.id],
    )) as Json[];
    expect(events).toEqual([
      { type: 'host.stop_acknowledged', hostId: old.host.id, data: { generation: 1 } },
    ]);
    // The reaper may delete its instance now: the acknowledgment is proof its node is off.
    const reapable = await h.repos.hosts.reapable(3_600);
    expect(reapable.map((r) => r.id)).toContain(old.host.id);
    expect(reapable.map((r) => r.id)).not.toContain(next.host.id);
  });
});
