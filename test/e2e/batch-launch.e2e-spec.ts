import { simNodes, watchDuplicates } from '../../scripts/support/ground-truth';
import { FAST_CLOCKS } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(240_000);

const COUNT = Number(process.env.BATCH_E2E_VALIDATORS ?? 60);

/**
 * Issue 20 point 4: validators requested together launch through RunInstances with Amount per zone
 * (≤ 100 a call), under the simulator's rate limits; the agents of one call share their UserData
 * and are told apart by their signed instance identity documents. Checked on the simulator's own
 * books (calls answered, instances, nodes), not on Snowline's state.
 */
describe('batched launches', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('batch_launch', {
      ...FAST_CLOCKS,
      // Sixty agents renewing every second would be a load test on this 2-core machine.
      LEASE_TTL_SECONDS: '12',
      LEASE_RENEW_SECONDS: '3',
      SIM_RATE_LIMITS: 'true',
      STANDBY_POOL: 'fuji=0',
      LAUNCH_BATCH_WAIT_MS: '1500',
      RATE_LIMIT_RPS: '0', // the burst of creations is the point here, not the API's rate limit
    });
  });
  afterAll(async () => stack?.stop());

  const simState = async () =>
    (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as {
      instances: number;
      calls: Record<string, number>;
    };

  it(`should launch ${COUNT} validators requested together in a handful of RunInstances calls`, async () => {
    const before = (await simState()).calls.RunInstances ?? 0;
    const dup = watchDuplicates(stack.simUrl);
    try {
      const created = await Promise.all(
        Array.from({ length: COUNT }, async (_, i) => {
          const res = await stack.api('/v1/validators', {
            method: 'POST',
            json: { network: 'fuji', name: `batch-${i}` },
          });
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        }),
      );
      await waitFor(
        `all ${COUNT} validators active`,
        async () => {
          const mine: { id: string; state: string }[] = [];
          for (let cursor: string | null = null, pages = 0; pages < 20; pages++) {
            const res = await stack.api(
              `/v1/validators?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            );
            const page = (await res.json()) as {
              items: { id: string; state: string }[];
              nextCursor: string | null;
            };
            mine.push(...page.items.filter((v) => created.includes(v.id)));
            cursor = page.nextCursor;
            if (!cursor) break;
          }
          const failed = mine.find((v) => v.state === 'failed');
          if (failed) throw new Error(`validator failed: ${JSON.stringify(failed)}`);
          return mine.length === COUNT && mine.every((v) => v.state === 'active')
            ? true
            : undefined;
        },
        200_000,
        1_000,
      );
      const after = await simState();
      const calls = (after.calls.RunInstances ?? 0) - before;
      // One call per zone per 100 validators, plus the calls of a validator whose job gathered
      // before the rest had arrived: far fewer than one per validator.
      expect(calls).toBeLessThanOrEqual(Math.ceil(COUNT / 100) * 3 + 9);
      expect(calls).toBeLessThan(COUNT / 4);
      expect(after.instances).toBe(COUNT);
      const nodes = (await simNodes(stack.simUrl)).filter((n) => n.running && n.nodeId);
      expect(new Set(nodes.map((n) => n.nodeId)).size).toBe(COUNT);
      expect(new Set(nodes.map((n) => n.instanceId)).size).toBe(COUNT);
    } finally {
      dup.stop();
    }
    expect([...dup.duplicated]).toEqual([]);
  });
});
