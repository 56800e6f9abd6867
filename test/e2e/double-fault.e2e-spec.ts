import { watchDuplicates } from '../../scripts/support/ground-truth';
import {
  FAST_CLOCKS,
  getValidator,
  injectFault,
  validatorEvents,
  type ValidatorView,
} from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(120_000);

/** Short clocks so the suite runs in well under a minute; the fuller run is `npm run chaos:double-fault`. */
const FAST = {
  ...FAST_CLOCKS,
  FAILOVER_DEADLINE_SECONDS: '15',
  FAILOVER_MAX_ATTEMPTS: '3',
  ZONE_MIN_HOSTS: '2',
  STANDBY_POOL: 'fuji=2', // room for the dark zone's validators and one re-plan
};

const get = getValidator;
const fault = injectFault;
const eventTypes = async (stack: Stack, id: string) =>
  (await validatorEvents(stack, id)).map((e) => e.type);

describe('double fault end to end', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('should re-plan a zone-loss move whose target fails mid-move, ending active elsewhere with no duplicate', async () => {
    stack = await startStack('double-fault', FAST);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `df-${i}` },
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as ValidatorView).id);
    }
    const vs = await waitFor(
      'every validator active and the standby pools full',
      async () => {
        const cur = await Promise.all(ids.map((id) => get(stack!, id)));
        const z = (await (await stack!.api('/v1/zones')).json()) as {
          items: { standbys: number | null }[];
        };
        return cur.every((v) => v.state === 'active') &&
          z.items.every((x) => (x.standbys ?? 0) >= 2)
          ? cur
          : undefined;
      },
      60_000,
      300,
    );
    const [v] = vs as [ValidatorView];
    const dark = v.zone!;
    const others = vs.filter((o) => o.id !== v.id && o.zone === dark); // placement may pair them
    const watch = watchDuplicates(stack.simUrl, 250);
    await fault(stack, { kind: 'zone-power-loss', zone: dark });

    // The move has picked a standby in another zone; it waits on the dark host's fence. Fail it now.
    const moving = await waitFor(
      'the move to pick its target',
      async () => {
        const cur = await get(stack!, v.id);
        return cur.state === 'failing_over' && cur.instanceId && cur.zone !== dark
          ? cur
          : undefined;
      },
      20_000,
      100,
    );
    await fault(stack, { kind: 'instance-failure', instanceId: moving.instanceId });
    expect((await get(stack, v.id)).state).toBe('failing_over'); // the target failed mid-move

    const moved = await waitFor(
      'the validator active on a third target',
      async () => {
        const cur = await get(stack!, v.id);
        return cur.state === 'active' && cur.generation > moving.generation ? cur : undefined;
      },
      45_000,
      300,
    ).catch(async (err: Error) => {
      const events = await eventTypes(stack!, v.id);
      throw new Error(
        `${err.message}\nevents: ${events.join(', ')}\nworker: ${stack!.logs.worker!.slice(-40).join('\n')}`,
      );
    });
    // Every other validator of the dark zone moved too, in one plain move each.
    await waitFor(
      'the rest of the dark zone active elsewhere',
      async () => {
        const cur = await Promise.all(others.map((o) => get(stack!, o.id)));
        return cur.every(
          (c, i) => c.state === 'active' && c.zone !== dark && c.generation > others[i]!.generation,
        );
      },
      20_000,
      300,
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few more ground-truth samples after the move
    watch.stop();
    expect(moved.zone).not.toBe(dark);
    expect(moved.zone).not.toBe(moving.zone); // the re-plan avoids the failed target's zone
    expect(moved.instanceId).not.toBe(moving.instanceId);
    expect(watch.samples()).toBeGreaterThan(10);
    expect([...watch.duplicated]).toEqual([]);
    const types = await eventTypes(stack, v.id);
    expect(types).toEqual(
      expect.arrayContaining(['failover.started', 'failover.replanned', 'failover.completed']),
    );
    expect(types.indexOf('failover.replanned')).toBeGreaterThan(types.indexOf('failover.started'));
    expect(types).not.toContain('failover.failed');
  });
});
