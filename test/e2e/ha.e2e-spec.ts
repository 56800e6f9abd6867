import { watchDuplicates } from '../../scripts/support/ground-truth';
import {
  leaders,
  startHaStack,
  type HaProcess,
  type HaStack,
} from '../../scripts/support/ha-stack';
import { waitFor } from '../../scripts/support/stack';
import { FAST_CLOCKS, type ValidatorView } from '../support/e2e';

jest.setTimeout(240_000);

const LEASE_S = 3;
const SWEEP_S = Number(FAST_CLOCKS.SWEEP_INTERVAL_SECONDS);
const step = (msg: string) => process.stderr.write(`[ha e2e] ${new Date().toISOString()} ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const list = async (stack: HaStack) =>
  ((await (await stack.api('/v1/validators?limit=100')).json()) as { items: ValidatorView[] })
    .items;

const workerOf = (stack: HaStack, pid: number): HaProcess | undefined =>
  (['worker-1', 'worker-2'] as const).find((w) => stack.procs[w].pid === pid);

async function allActive(stack: HaStack, n: number, notIn: string[] = [], timeoutMs = 90_000) {
  return waitFor(
    `${n} validators active${notIn.length ? ` outside ${notIn.join(',')}` : ''}`,
    async () => {
      const vs = await list(stack);
      return vs.length === n && vs.every((v) => v.state === 'active' && !notIn.includes(v.zone!))
        ? vs
        : undefined;
    },
    timeoutMs,
    300,
  );
}

describe('replicated control plane (2 APIs, 2 workers) end to end', () => {
  let stack: HaStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('should survive kill -9 of a worker and an API, a frozen leader, and a Postgres and Redis restart', async () => {
    stack = await startHaStack(
      'e2e',
      {
        ...FAST_CLOCKS,
        LEADER_LEASE_SECONDS: String(LEASE_S),
        STANDBY_POOL: 'fuji=1',
        LOG_LEVEL: 'warn',
      },
      { privateServices: true },
    );
    const s = stack;
    step('stack up');
    const N = 3;
    for (let i = 0; i < N; i++) {
      const res = await s.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `ha-${i}` },
      });
      expect(res.status).toBe(202);
    }
    const before = await allActive(s, N);
    step('all active');
    const watch = watchDuplicates(s.simUrl, 250);

    // 1. A zone goes dark; the sweeper's leader is killed -9 in the middle of the failover.
    const dark = before[0]!.zone!;
    await fetch(`${s.simUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'zone-power-loss', zone: dark }),
    });
    await waitFor(
      'a failover under way',
      async () => (await list(s)).some((v) => v.state === 'failing_over'),
      60_000,
      200,
    );
    const lead = await leaders(s.databaseUrl);
    const victim = workerOf(s, lead.sweeper!)!;
    s.procs[victim].kill('SIGKILL');
    const killedAt = Date.now();
    const moved = await waitFor(
      'the sweeper on the other worker',
      async () => {
        const l = await leaders(s.databaseUrl);
        return l.sweeper && l.sweeper !== lead.sweeper ? Date.now() - killedAt : undefined;
      },
      30_000,
      100,
    );
    expect(moved).toBeLessThanOrEqual(SWEEP_S * 1000 + 1000); // one sweep interval (+ a query's slack)
    s.respawn(victim);
    await allActive(s, N, [dark]);

    step('kill -9 done');
    // 2. The leader is frozen (SIGSTOP): leadership moves within the lease; resumed, it stays off.
    const lead2 = await leaders(s.databaseUrl);
    const frozen = workerOf(s, lead2.sweeper!)!;
    s.procs[frozen].kill('SIGSTOP');
    const frozenAt = Date.now();
    const movedOff = await waitFor(
      'leadership off the frozen worker',
      async () => {
        const l = await leaders(s.databaseUrl);
        return l.sweeper && l.sweeper !== lead2.sweeper ? Date.now() - frozenAt : undefined;
      },
      30_000,
      100,
    );
    expect(movedOff).toBeLessThanOrEqual((LEASE_S + SWEEP_S) * 1000 + 1000);
    const newLeader = (await leaders(s.databaseUrl)).sweeper;
    s.procs[frozen].kill('SIGCONT');
    await sleep(3 * SWEEP_S * 1000);
    expect((await leaders(s.databaseUrl)).sweeper).toBe(newLeader);

    step('sigstop done');
    // 3. An API is killed -9 mid-request: the agents renew through the other one.
    const inflight = Array.from({ length: 20 }, () =>
      s.api('/v1/validators?limit=100').then(
        (r) => r.status,
        () => 0,
      ),
    );
    s.procs['api-1'].kill('SIGKILL');
    await Promise.all(inflight);
    await sleep(Number(FAST_CLOCKS.LEASE_TTL_SECONDS) * 1000 + 2000); // longer than a lease: nobody self-fences
    await allActive(s, N, [dark], 10_000);
    s.respawn('api-1');

    step('api kill done');
    // 4. Postgres and Redis restart during a failover: back on track within one reconcile interval.
    const vs = await list(s);
    const dark2 = vs.find((v) => v.zone !== dark)!.zone!;
    await fetch(`${s.simUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'zone-power-loss', zone: dark2 }),
    });
    await waitFor(
      'a second failover under way',
      async () => (await list(s)).some((v) => v.state === 'failing_over'),
      60_000,
      200,
    );
    await s.restartPostgres!();
    await s.restartRedis!();
    const restartedAt = Date.now();
    await allActive(s, N, [dark, dark2], 120_000);
    const back = Date.now() - restartedAt;
    watch.stop();
    expect(watch.samples()).toBeGreaterThan(20);
    expect([...watch.duplicated]).toEqual([]);
    process.stderr.write(
      `[ha e2e] sweep moved after kill ${moved} ms, after SIGSTOP ${movedOff} ms, back after restarts ${back} ms\n`,
    );
  });
});
