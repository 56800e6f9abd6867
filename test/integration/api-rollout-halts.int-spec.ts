import { randomUUID } from 'node:crypto';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A halted rollout (a canary rolled back: the worker moves nothing onto that version on that
 * network) can be listed and lifted by the operator, with an event; tenants and bad input change
 * nothing.
 */
describe('rollout halts over the API', () => {
  let h: ApiApp;

  beforeAll(async () => {
    h = await startApiApp('rollout_halts');
  });
  afterAll(async () => h?.stop());

  const halt = (network: string, version: string) =>
    h.repos.transaction((tx) =>
      h.repos.rollouts.halt(
        { network, version, reason: `canary did not come up on ${version}`, validatorId: null },
        tx,
      ),
    );
  const halts = async () =>
    (await h.repos.rollouts.halted()).map((x) => `${x.network}/${x.version}`);

  it('should list the halts and lift one, recording who lifted it', async () => {
    await halt('fuji', '1.15.1');
    await halt('mainnet', '1.15.1');
    const list = await h.api('/v1/rollouts/halts');
    expect(list.status).toBe(200);
    expect(((await list.json()) as Json).items).toEqual([
      expect.objectContaining({ network: 'fuji', version: '1.15.1', reason: expect.any(String) }),
      expect.objectContaining({ network: 'mainnet', version: '1.15.1' }),
    ]);

    // `v1.15.1` is the same version as `1.15.1`.
    const res = await h.api('/v1/rollouts/halts/fuji/v1.15.1', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ network: 'fuji', version: '1.15.1' });
    expect(await halts()).toEqual(['mainnet/1.15.1']);
    const events = (await (await h.api('/v1/events?limit=50')).json()) as Json;
    const resumed = events.items.filter((e: Json) => e.type === 'rollout.resumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ data: { network: 'fuji', version: '1.15.1' } });
    expect(resumed[0].message).toContain('canary did not come up on 1.15.1');

    // Lifted already: 404, and it says where to look.
    const again = await h.api('/v1/rollouts/halts/fuji/1.15.1', { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as Json).detail).toContain('GET /v1/rollouts/halts');
  });

  it('should refuse bad input and tenants with a clear 4xx, changing nothing', async () => {
    await halt('fuji', '1.16.0');
    const before = await halts();
    const bad = await h.api('/v1/rollouts/halts/fuji/latest', { method: 'DELETE' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).detail).toMatch(/not an AvalancheGo version/);
    const net = await h.api('/v1/rollouts/halts/testnet/1.16.0', { method: 'DELETE' });
    expect(net.status).toBe(400);
    expect(((await net.json()) as Json).detail).toMatch(/fuji/);

    const tenant = await h.tenant(`t-${randomUUID().slice(0, 6)}`, ['admin']);
    const their = await h.api('/v1/rollouts/halts/fuji/1.16.0', {
      method: 'DELETE',
      key: tenant.key,
    });
    expect(their.status).toBe(403);
    expect(((await their.json()) as Json).detail).toMatch(/operator/);
    expect((await h.api('/v1/rollouts/halts', { key: tenant.key })).status).toBe(403);
    const reader = await h.tenant(`r-${randomUUID().slice(0, 6)}`, ['validators:read']);
    expect(
      (await h.api('/v1/rollouts/halts/fuji/1.16.0', { method: 'DELETE', key: reader.key })).status,
    ).toBe(403);
    expect(await halts()).toEqual(before);
  });
});
