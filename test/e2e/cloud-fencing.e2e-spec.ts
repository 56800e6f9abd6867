import { watchDuplicates } from '../../scripts/support/ground-truth';
import { getValidator, injectFault, validatorEvents, type ValidatorView } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(180_000);

// A TTL long enough that the lease fallback (TTL + margin after the last renewal) cannot explain a
// fast move: only a stop the cloud confirmed can.
const LEASE_TTL_S = 20;
const SKEW_S = 2;
const STOP_LAG_MS = 5_000;

/**
 * Cloud-confirmed fencing (issue 16, point 3): at failover the old instance is force-stopped and the
 * keys move once DescribeInstances shows it Stopped — not when the stop (or the reaper's delete)
 * call returned, and not only after the lease ran out. The simulator's stop-lag fault makes every
 * stop and delete answer at once while the guest would run on.
 */
describe('cloud-confirmed fencing', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('cloudfence', {
      LEASE_TTL_SECONDS: String(LEASE_TTL_S),
      LEASE_RENEW_SECONDS: '1',
      CLOCK_SKEW_MARGIN_SECONDS: String(SKEW_S),
      SWEEP_INTERVAL_SECONDS: '1',
      FAILOVER_GRACE_SECONDS: '1',
      SIM_BOOTSTRAP_SECONDS: '1',
      SIM_TIME_SCALE: '0.3',
      STANDBY_POOL: 'fuji=2',
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const get = (id: string) => getValidator(stack, id);
  const fault = (body: object) => injectFault(stack, body);

  it('should move the keys once the cloud shows the old instance Stopped, well inside its lease, with no duplicate', async () => {
    const res = await stack.api('/v1/validators', { method: 'POST', json: { network: 'fuji' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as ValidatorView;
    const v = await waitFor(
      'the validator active',
      async () => {
        const cur = await get(id);
        return cur.state === 'active' ? cur : undefined;
      },
      60_000,
      300,
    );
    const old = v.instanceId!;
    // A standby in another zone, so the move does not wait for a launch.
    await waitFor(
      'a standby in another zone',
      async () => {
        const zones = (
          (await (await stack.api('/v1/zones')).json()) as {
            items: { id: string; standbys: number | null }[];
          }
        ).items;
        return zones.some((z) => z.id !== v.zone && (z.standbys ?? 0) > 0) ? true : undefined;
      },
      90_000,
      500,
    );
    // And time for it to sync (SIM_BOOTSTRAP_SECONDS).
    await new Promise((r) => setTimeout(r, 3_000));

    const dup = watchDuplicates(stack.simUrl, 200);
    try {
      // The hardware under the old instance fails: ECS keeps saying Running (Impaired), so only a
      // force-stop can make the cloud confirm it off. Every stop or delete of it answers at once and
      // takes effect 5 s later (Describe says Stopping meanwhile).
      await fault({ kind: 'stop-lag', instanceId: old, delayMs: STOP_LAG_MS });
      await fault({ kind: 'instance-failure', instanceId: old });
      const faultAt = Date.now();

      const moved = await waitFor(
        'the validator active on another instance',
        async () => {
          const cur = await get(id);
          return cur.state === 'active' && cur.instanceId !== old ? cur : undefined;
        },
        60_000,
        250,
      );
      const movedAfterMs = Date.now() - faultAt;
      expect(moved.nodeId).toBe(v.nodeId);
      // Fast: the last renewal was at most ~1 s before the fault, so the lease fallback could not
      // grant before TTL + margin − 1 s after it. Only the cloud's confirmation explains this.
      expect(movedAfterMs).toBeLessThan((LEASE_TTL_S + SKEW_S - 1) * 1000);

      const events = await validatorEvents(stack, id);
      const at = (type: string) => {
        const e = [...events].reverse().find((x) => x.type === type);
        expect(e).toBeDefined();
        return Date.parse(e!.createdAt);
      };
      // …and not early: the stop call (and the reaper's delete) returned at once, but the keys
      // waited until a Describe showed the instance Stopped, 5 s of stop-lag later.
      expect(at('host.keys_delivered') - at('failover.started')).toBeGreaterThanOrEqual(
        STOP_LAG_MS - 500,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      expect(dup.samples()).toBeGreaterThan(20);
      expect([...dup.duplicated]).toEqual([]);
    } finally {
      dup.stop();
    }
  });
});
