/**
 * `npm run chaos:upgrade` (issue 23): rolling upgrades on this machine at the simulator's default
 * clocks (lease renewals every 10 s, TTL 45 s, 3 s bootstrap). Starts the stack (api + worker +
 * ecs-sim, own database and Redis prefix) with CHAOS_VALIDATORS (30) validators on 1.15.2, then:
 *
 * 1. asks every validator for 1.15.3 (a good release) and waits until all run it, measuring each
 *    validator's downtime on the simulator's nodes (the time no instance ran its NodeID bootstrapped
 *    and validating), never on Snowline's own state;
 * 2. asks every validator for 1.15.4, a bad build here (SIM_BROKEN_RELEASES: a node started on it
 *    with staking keys never bootstraps): the first move — the canary — must roll back and the
 *    rollout halt, every other validator staying on 1.15.3.
 *
 * Ground truth is sampled every 250 ms for any NodeID running twice. Prints one JSON line
 * `{validators, upgraded, rolled_back, halted, downtime_p50_s, downtime_p99_s, duplicates, …}` and
 * exits non-zero unless all upgraded, one rolled back, the rollout halted, p99 ≤ 15 s and no
 * duplicate. Loopback only; every wait is bounded (CHAOS_DEADLINE_SECONDS per phase, default 600).
 */
import { createHash } from 'node:crypto';
import { SIM_RELEASES } from '@snowline/config';
import { simulatedRelease } from '../apps/ecs-sim/src/releases';
import { watchDowntime, watchDuplicates } from './support/ground-truth';
import { startStack, waitFor, type Stack } from './support/stack';
import { listValidators, percentile } from './support/validators';

const VALIDATORS = Number(process.env.CHAOS_VALIDATORS ?? 30);
const DEADLINE_S = Number(process.env.CHAOS_DEADLINE_SECONDS ?? 600);
const IN_FLIGHT = Number(process.env.CHAOS_IN_FLIGHT_PER_ZONE ?? 2);
const FROM = '1.15.2';
const GOOD = '1.15.3';
const BAD = '1.15.4';
/** Issue 23's target, at the simulator's default bootstrap time. */
const TARGET_P99_S = 15;

interface V {
  id: string;
  name: string;
  state: string;
  zone: string | null;
  nodeId: string;
  instanceId: string | null;
  version: string;
  runningVersion: string | null;
}

const log = (msg: string) => process.stderr.write(`[chaos-upgrade] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = percentile;
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
const sha = (v: string) => createHash('sha256').update(simulatedRelease(v)).digest('hex');

async function eventsOf(stack: Stack, type: string): Promise<{ validatorId: string }[]> {
  const res = await stack.api(`/v1/events?types=${type}&limit=100`);
  return ((await res.json()) as { items: { validatorId: string }[] }).items;
}

async function askAll(stack: Stack, vs: V[], version: string): Promise<void> {
  for (const v of vs) {
    const r = await stack.api(`/v1/validators/${v.id}`, { method: 'PATCH', json: { version } });
    if (r.status !== 200)
      throw new Error(`PATCH ${v.name} → ${version}: ${r.status} ${await r.text()}`);
  }
}

async function main() {
  const stack = await startStack('chaos-upgrade', {
    LOG_LEVEL: 'warn',
    SIM_TIME_SCALE: '1',
    SIM_BOOTSTRAP_SECONDS: '3',
    LEASE_RENEW_SECONDS: '10',
    LEASE_TTL_SECONDS: '45',
    STANDBY_POOL: `fuji=${IN_FLIGHT}`,
    AVALANCHEGO_VERSION: FROM,
    AVALANCHEGO_RELEASES: `${SIM_RELEASES},${BAD}=${sha(BAD)}`,
    SIM_BROKEN_RELEASES: BAD,
    UPGRADE_MAX_IN_FLIGHT_PER_ZONE: String(IN_FLIGHT),
    UPGRADE_MOVE_DEADLINE_SECONDS: '60',
  });
  const dups = watchDuplicates(stack.simUrl, 250);
  const down = watchDowntime(stack.simUrl, 250);
  try {
    log(`stack up; launching ${VALIDATORS} validators on ${FROM}`);
    for (let i = 0; i < VALIDATORS; i++) {
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `upgrade-${i}` },
      });
      if (res.status !== 202) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    }
    const start = await waitFor(
      `every validator active on ${FROM}`,
      async () => {
        const vs = await listValidators<V>(stack);
        return vs.filter((v) => v.state === 'active' && v.runningVersion === FROM).length ===
          VALIDATORS
          ? vs
          : undefined;
      },
      DEADLINE_S * 1000,
      1000,
    );
    down.reset();

    // 1. The good release.
    const t1 = Date.now();
    log(`rolling ${VALIDATORS} validators to ${GOOD}, ${IN_FLIGHT} per zone at once`);
    await askAll(stack, start, GOOD);
    let upgradedList: V[] = [];
    await waitFor(
      `every validator running ${GOOD}`,
      async () => {
        upgradedList = (await listValidators<V>(stack)).filter(
          (v) => v.state === 'active' && v.runningVersion === GOOD,
        );
        return upgradedList.length === VALIDATORS ? true : undefined;
      },
      DEADLINE_S * 1000,
      1000,
    ).catch((err: Error) => log(err.message));
    const rollout1S = (Date.now() - t1) / 1000;
    const downtime = start
      .map((v) => down.downtimeMs().get(v.nodeId))
      .filter((x): x is number => x !== undefined)
      .map((ms) => ms / 1000);
    log(`${upgradedList.length}/${VALIDATORS} on ${GOOD} in ${Math.round(rollout1S)} s`);

    // 2. The bad build: the canary rolls back, the rollout halts.
    const t2 = Date.now();
    log(`rolling to ${BAD} (a bad build)`);
    await askAll(stack, upgradedList, BAD);
    await waitFor(
      'the canary to roll back',
      async () => ((await eventsOf(stack, 'upgrade.rolled_back')).length > 0 ? true : undefined),
      DEADLINE_S * 1000,
      1000,
    ).catch((err: Error) => log(err.message));
    const rollbackS = (Date.now() - t2) / 1000;
    // Long enough for the rollback to land and for several rollout rounds to (not) start more moves.
    await waitFor(
      'the rolled-back validator active again',
      async () => {
        const vs = await listValidators<V>(stack);
        return vs.filter((v) => v.state === 'active').length === VALIDATORS ? true : undefined;
      },
      DEADLINE_S * 1000,
      1000,
    ).catch((err: Error) => log(err.message));
    await sleep(20_000);
    const rolledBack = new Set(
      (await eventsOf(stack, 'upgrade.rolled_back')).map((e) => e.validatorId),
    );
    const started = (await eventsOf(stack, 'upgrade.started')).length;
    const final = await listValidators<V>(stack);
    const onBad = final.filter((v) => v.runningVersion === BAD).length;
    const stillGood = final.filter((v) => v.state === 'active' && v.runningVersion === GOOD).length;
    dups.stop();
    down.stop();
    const result = {
      validators: VALIDATORS,
      upgraded: upgradedList.length,
      rolled_back: rolledBack.size,
      halted: rolledBack.size >= 1 && onBad === 0 && started === VALIDATORS + rolledBack.size,
      downtime_p50_s: round(pct(downtime, 50)),
      downtime_p99_s: round(pct(downtime, 99)),
      downtime_max_s: round(downtime.length ? Math.max(...downtime) : null),
      duplicates: dups.duplicated.size,
      rollout_s: Math.round(rollout1S),
      rollback_s: Math.round(rollbackS),
      active_on_good_after: stillGood,
      in_flight_per_zone: IN_FLIGHT,
      samples: dups.samples(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exitCode =
      result.upgraded === VALIDATORS &&
      result.rolled_back === 1 &&
      result.halted &&
      result.duplicates === 0 &&
      (result.downtime_p99_s ?? 999) <= TARGET_P99_S
        ? 0
        : 1;
  } finally {
    dups.stop();
    down.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
