import { randomBytes, randomUUID } from 'node:crypto';
import { HostEntity, sha256Hex } from '@snowline/persistence';
import { idleNodeReport } from '../support/agent';
import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(60_000);

/**
 * Issue 18 point 6, one clock: a lease is timed by the database's clock, not by the clock of the
 * API replica that renews it — here an API whose own clock runs an hour ahead.
 */
describe('leases on the database clock', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('db-clock');
  });
  afterAll(async () => {
    jest.useRealTimers();
    await h?.stop();
  });

  it('should set a renewed lease from the database clock when the API clock is an hour ahead', async () => {
    const token = randomBytes(24).toString('base64url');
    const host = await h.repos.ds.manager.save(
      HostEntity,
      h.repos.ds.manager.create(HostEntity, {
        role: 'standby',
        zone: 'cn-hongkong-b',
        instanceType: 'ecs.g7.2xlarge',
        clientToken: randomUUID(),
        bootstrapTokenHash: sha256Hex(token),
        agentProtocol: 1, // a bearer token on every call: what this test needs, not what hosts get now
        instanceId: `i-${randomUUID().slice(0, 12)}`,
        network: 'fuji',
      }),
    );
    // Only Date moves: timers and I/O run as usual.
    jest.useFakeTimers({
      now: Date.now() + 3_600_000,
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'nextTick',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    const res = await h.api('/v1/agent/lease', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${token}` },
      json: {
        hostId: host.id,
        generation: null,
        node: idleNodeReport(),
      },
    });
    jest.useRealTimers();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { leaseExpiresAt: string; leaseTtlSeconds: number };
    const [{ db_ms }] = (await h.repos.ds.query(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db_ms`,
    )) as [{ db_ms: number }];
    const ttlMs = body.leaseTtlSeconds * 1000;
    const stored = (
      await h.repos.ds.manager.findOneByOrFail(HostEntity, { id: host.id })
    ).leaseExpiresAt!.getTime();
    for (const at of [Date.parse(body.leaseExpiresAt), stored]) {
      // Within a few seconds of the database's now + TTL; an hour off if the API's clock ruled.
      expect(Math.abs(at - (db_ms + ttlMs))).toBeLessThan(5_000);
    }
  });
});
