import { simNodes, watchDuplicates } from '../../scripts/support/ground-truth';
import { FAST_CLOCKS, injectFault } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(240_000);

const VALIDATORS = 18;
const POOL = 6;

interface V {
  id: string;
  state: string;
  zone: string | null;
  nodeId: string | null;
  generation: number;
}

/**
 * Issue 20 point 4, last sentence: standby refills after a zone loss batch like launches. One zone
 * loses power under the simulator's rate limits; its validators move to the other zones' standbys,
 * and the pools those moves emptied are refilled in a few RunInstances calls (the simulator's own
 * count), by agents told apart by their instance identity documents.
 */
describe('batched standby refills', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('batch_refill', {
      ...FAST_CLOCKS,
      // Forty agents renewing every second would be a load test on this 2-core machine.
      LEASE_TTL_SECONDS: '12',
      LEASE_RENEW_SECONDS: '3',
      SIM_RATE_LIMITS: 'true',
      STANDBY_POOL: `fuji=${POOL}`,
      LAUNCH_BATCH_WAIT_MS: '1500',
      RATE_LIMIT_RPS: '0',
    });
  });
  afterAll(async () => stack?.stop());

  const simCalls = async () =>
    (
      (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as {
        calls: Record<string, number>;
      }
    ).calls.RunInstances ?? 0;
  const validators = async () =>
    ((await (await stack.api('/v1/validators?limit=100')).json()) as { items: V[] }).items;
  const pools = async () =>
    (
      (await (await stack.api('/v1/zones')).json()) as {
        items: { id: string; status: string; standbys: number | null }[];
      }
    ).items;

  it("should refill the pools a zone's loss emptied in one RunInstances per zone and round", async () => {
    const created = await Promise.all(
      Array.from({ length: VALIDATORS }, async (_, i) => {
        const res = await stack.api('/v1/validators', {
          method: 'POST',
          json: { network: 'fuji', name: `refill-${i}` },
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    await waitFor(
      'every validator active and every pool warm',
      async () => {
        const vs = await validators();
        const warm = (await simNodes(stack.simUrl)).filter((n) => n.running && n.bootstrapped);
        return vs.filter((v) => v.state === 'active').length === VALIDATORS &&
          (await pools()).every((z) => z.standbys === POOL) &&
          warm.length === VALIDATORS + 3 * POOL
          ? true
          : undefined;
      },
      150_000,
      1_000,
    );
    const before = await validators();
    const byZone = new Map<string, V[]>();
    for (const v of before) byZone.set(v.zone!, [...(byZone.get(v.zone!) ?? []), v]);
    const [dark, lost] = [...byZone.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(lost.length).toBeLessThanOrEqual(2 * POOL); // every one of them has a standby elsewhere

    const dup = watchDuplicates(stack.simUrl, 250);
    const runs = await simCalls();
    await injectFault(stack, { kind: 'zone-power-loss', zone: dark });
    try {
      await waitFor(
        `the ${lost.length} validators of ${dark} moved and the other pools full again`,
        async () => {
          const vs = await validators();
          const moved = lost.every((l) => {
            const v = vs.find((x) => x.id === l.id)!;
            return v.state === 'active' && v.zone !== dark && v.generation > l.generation;
          });
          const zones = await pools();
          const full = zones.filter((z) => z.id !== dark).every((z) => z.standbys === POOL);
          const warm = (await simNodes(stack.simUrl)).filter(
            (n) => n.zone !== dark && n.running && n.bootstrapped,
          );
          return moved && full && warm.length === VALIDATORS + 2 * POOL ? true : undefined;
        },
        150_000,
        1_000,
      );
    } finally {
      dup.stop();
    }
    const refillCalls = (await simCalls()) - runs;
    // One call per healthy zone per refill round that found its pool short (moves start within a
    // sweep or two of each other): a handful, against one per standby before.
    expect(refillCalls).toBeGreaterThanOrEqual(1);
    expect(refillCalls).toBeLessThanOrEqual(4);
    expect(refillCalls).toBeLessThan(lost.length);
    expect([...dup.duplicated]).toEqual([]);
    expect(created).toHaveLength(VALIDATORS);
  });
});
