import { FAST_CLOCKS, getValidator, validatorEvents } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(180_000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies
interface SimNode {
  instanceId: string;
  nodeId: string | null;
  running: boolean;
  version: string | null;
  validating: boolean;
}

/**
 * A network upgrade end to end, on the real processes: a test activation (NETWORK_UPGRADES) a few
 * tens of seconds out needs 1.15.3. The validator pinned to 1.15.2 is warned once
 * (`version.upgrade_required`, with the deadline) however many times the worker checks; its host
 * reports running 1.15.2 (the release the simulator served it, checked by SHA-256); at activation
 * its simulated node is dropped by its peers — /ext/health 503 with avalanchego's network message,
 * no longer validating, the health loop sees "the node reports unhealthy" — while the 1.15.3 one
 * keeps validating and is never warned.
 */
describe('network upgrade activation end to end', () => {
  let stack: Stack | undefined;
  afterAll(async () => stack?.stop());

  const nodes = async () =>
    (await (await fetch(`${stack!.simUrl}/_sim/nodes`)).json()) as SimNode[];
  const warnings = async (id: string) =>
    (await validatorEvents(stack!, id)).filter((e) => e.type === 'version.upgrade_required');

  it('should warn once ahead, then take an outdated node out of validating at activation', async () => {
    // Far enough for the stack to start and both validators to become active, near enough to wait.
    const activation = new Date(Math.ceil((Date.now() + 35_000) / 1000) * 1000);
    stack = await startStack('network-upgrade', {
      ...FAST_CLOCKS,
      STANDBY_POOL: '0',
      NETWORK_UPGRADES: `fuji/Testicon/${activation.toISOString()}/1.15.3`,
      UPGRADE_CHECK_INTERVAL_SECONDS: '1',
      // Observe the outdated node as it is: no failover would help it (any new host runs 1.15.2 too).
      FAILOVER_GRACE_SECONDS: '600',
    });
    const launch = async (name: string, version: string) => {
      const r = await stack!.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name, version },
      });
      expect(r.status).toBe(202);
      return ((await r.json()) as Json).id as string;
    };
    const old = await launch('behind', '1.15.2');
    const fresh = await launch('ahead', '1.15.3');
    for (const id of [old, fresh])
      await waitFor(
        `${id} active`,
        async () => (await getValidator(stack!, id)).state === 'active',
        60_000,
        300,
      );
    expect(Date.now()).toBeLessThan(activation.getTime() - 3_000); // the test saw "before"

    // Before activation: both run what they asked for, both validate; only `behind` is warned.
    const before = (await (await stack.api(`/v1/validators/${old}`)).json()) as Json;
    await waitFor(
      'running versions reported',
      async () => {
        const a = (await (await stack!.api(`/v1/validators/${old}`)).json()) as Json;
        const b = (await (await stack!.api(`/v1/validators/${fresh}`)).json()) as Json;
        return a.runningVersion === '1.15.2' && b.runningVersion === '1.15.3';
      },
      10_000,
      200,
    );
    // The host resource: the release its UserData named, and what its agent reports.
    const hosts = (await (await stack.api(`/v1/validators/${old}/hosts`)).json()) as Json;
    expect(hosts.items[0]).toMatchObject({
      status: 'current',
      version: '1.15.2',
      runningVersion: '1.15.2',
    });
    const sim = await nodes();
    const oldNode = sim.find((n) => n.instanceId === before.instanceId)!;
    expect(oldNode).toMatchObject({ running: true, version: '1.15.2', validating: true });
    await waitFor('the warning', async () => (await warnings(old)).length > 0, 10_000, 200);
    await new Promise((r) => setTimeout(r, 3_000)); // three more checks: still one
    const [w, ...more] = await warnings(old);
    expect(more).toEqual([]);
    expect(w!.data).toMatchObject({
      upgrade: 'Testicon',
      deadline: activation.toISOString(),
      minVersion: '1.15.3',
      version: '1.15.2',
      cause: 'spec',
    });
    expect(await warnings(fresh)).toEqual([]);
    const banner = (await (await stack.api('/v1/network-upgrades')).json()) as Json;
    expect(banner.items[0].validatorsAtRisk.map((v: Json) => v.name)).toEqual(['behind']);

    // At activation: peers drop the 1.15.2 node; the 1.15.3 one goes on.
    await waitFor('the activation', async () => Date.now() >= activation.getTime(), 60_000, 200);
    await waitFor(
      'the outdated node to stop validating',
      async () => {
        const n = (await nodes()).find((x) => x.instanceId === before.instanceId);
        return n?.running === true && n.validating === false;
      },
      5_000,
      100,
    );
    const health = await fetch(`${stack.simUrl}/_nodes/${before.instanceId}/ext/health`);
    expect(health.status).toBe(503);
    const checks = ((await health.json()) as Json).checks;
    expect(checks.network.error.message).toBe(
      'network layer is unhealthy reason: not connected to a minimum of 1 peer(s) only 0',
    );
    const afterSim = await nodes();
    const ahead = (await (await stack.api(`/v1/validators/${fresh}`)).json()) as Json;
    expect(afterSim.find((n) => n.instanceId === ahead.instanceId)).toMatchObject({
      running: true,
      version: '1.15.3',
      validating: true,
    });
    // The agent says so in its renewals, and the health loop records it.
    const seen = await waitFor(
      'the health loop to see it',
      async () => {
        const v = (await (await stack!.api(`/v1/validators/${old}`)).json()) as Json;
        return v.health?.reason === 'the node reports unhealthy' ? v : undefined;
      },
      15_000,
      300,
    );
    expect(seen).toMatchObject({ runningVersion: '1.15.2', nextUpgrade: null });
    expect(((await (await stack.api(`/v1/validators/${fresh}`)).json()) as Json).health.state).toBe(
      'healthy',
    );
    expect(await warnings(old)).toHaveLength(1);
  });
});
