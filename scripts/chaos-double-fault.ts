/**
 * `npm run chaos:double-fault`: a zone goes dark, and the standby taking over one of its validators
 * fails mid-move. Starts the stack (api + worker + ecs-sim, own database and Redis prefix, short
 * lease and move deadline), launches validators over three zones with standbys, cuts one zone's
 * power, and as soon as a move of that zone has picked its target standby, fails that target's
 * hardware. Every validator of the dark zone must end active in another zone — the hit one through
 * the move watchdog's re-plan — with no NodeID ever running twice (the simulator's ground truth,
 * sampled every 500 ms), and a later failover must still start and finish. Prints one JSON line.
 * Loopback only; every wait is bounded.
 */
import { simNodes, watchDuplicates } from './support/ground-truth';
import { startStack, waitFor, type Stack } from './support/stack';
import { listValidators } from './support/validators';

const VALIDATORS = Number(process.env.CHAOS_VALIDATORS ?? 30);
const MOVE_DEADLINE_S = Number(process.env.CHAOS_FAILOVER_DEADLINE_SECONDS ?? 30);
const TTL_S = Number(process.env.CHAOS_LEASE_TTL_SECONDS ?? 15);
const RENEW_S = Number(process.env.CHAOS_LEASE_RENEW_SECONDS ?? 3);
const SKEW_S = 2;
// When the target fails: as soon as the move picked it (`picked`), or once it holds the keys (`keys`).
const HIT = process.env.CHAOS_HIT === 'keys' ? 'keys' : 'picked';
const MAX_ATTEMPTS = 3;
// The whole wait for recovery: two moves' fences and a deadline's worth of slack.
const BOUND_S = Number(process.env.CHAOS_BOUND_SECONDS ?? MOVE_DEADLINE_S + 4 * (TTL_S + SKEW_S));

interface V {
  id: string;
  name: string;
  state: string;
  zone: string | null;
  instanceId: string | null;
  nodeId: string | null;
  generation: number;
}

const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

async function fault(stack: Stack, spec: object): Promise<{ id: string }> {
  const res = await fetch(`${stack.simUrl}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  if (res.status !== 201) throw new Error(`fault ${JSON.stringify(spec)}: ${await res.text()}`);
  return (await res.json()) as { id: string };
}

interface E {
  validatorId: string | null;
  data: { generation?: number } | null;
}

async function eventsOf(stack: Stack, types: string): Promise<E[]> {
  const out: E[] = [];
  let after: string | null = null;
  do {
    const res = await stack.api(
      `/v1/events?types=${types}&limit=100${after ? `&after=${after}` : ''}`,
    );
    const body = (await res.json()) as { items: E[]; nextCursor: string | null };
    out.push(...body.items);
    after = body.items.length ? body.nextCursor : null;
  } while (after);
  return out;
}

/** Active in another zone than `dark`, under a newer generation than `was`. */
const movedOff = (v: V, was: V, dark: string) =>
  v.state === 'active' && v.zone !== null && v.zone !== dark && v.generation > was.generation;

async function main() {
  const pool = Math.ceil(VALIDATORS / 3 / 2) + 1; // the healthy zones together hold one zone's validators
  const settings = {
    FAILOVER_DEADLINE_SECONDS: String(MOVE_DEADLINE_S),
    FAILOVER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    LEASE_TTL_SECONDS: String(TTL_S),
    LEASE_RENEW_SECONDS: String(RENEW_S),
    CLOCK_SKEW_MARGIN_SECONDS: String(SKEW_S),
    SWEEP_INTERVAL_SECONDS: '2',
    FAILOVER_GRACE_SECONDS: '2',
  };
  const stack = await startStack('chaos-df', {
    LOG_LEVEL: 'warn',
    SIM_TIME_SCALE: '0.5',
    SIM_BOOTSTRAP_SECONDS: '2',
    STANDBY_POOL: `fuji=${pool}`,
    ...settings,
  });
  let watch: ReturnType<typeof watchDuplicates> | undefined;
  try {
    log(`stack up; launching ${VALIDATORS} validators, ${pool} standbys per zone`);
    for (let i = 0; i < VALIDATORS; i++) {
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `df-${i}` },
      });
      if (res.status !== 202) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    }
    await waitFor(
      'every validator active and the standby pools warm',
      async () => {
        const vs = await listValidators<V>(stack);
        const zones = (await (await stack.api('/v1/zones')).json()) as {
          items: { standbys: number | null }[];
        };
        const nodes = await simNodes(stack.simUrl);
        const warm = nodes.filter((n) => n.running && n.bootstrapped).length;
        return (
          vs.filter((v) => v.state === 'active').length === VALIDATORS &&
          zones.items.every((z) => (z.standbys ?? 0) >= pool) &&
          warm >= VALIDATORS + 3 * pool
        );
      },
      300_000,
      1000,
    );
    const before = await listValidators<V>(stack);
    const byZone = new Map<string, V[]>();
    for (const v of before) byZone.set(v.zone!, [...(byZone.get(v.zone!) ?? []), v]);
    log(`all active: ${[...byZone].map(([z, vs]) => `${z}=${vs.length}`).join(' ')}`);
    const dark = [...byZone.entries()].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const affected = new Map(byZone.get(dark)!.map((v) => [v.id, v]));

    watch = watchDuplicates(stack.simUrl, 500);
    await fault(stack, { kind: 'zone-power-loss', zone: dark });
    const t0 = Date.now();
    const since = () => (Date.now() - t0) / 1000;
    log(`power cut in ${dark} (${affected.size} validators)`);

    // The first move of the dark zone to pick a standby (or, with CHAOS_HIT=keys, whose standby got
    // the keys): fail that standby's hardware at once.
    const hit = await waitFor(
      `a move of the dark zone to ${HIT === 'keys' ? 'hand its target the keys' : 'pick its target'}`,
      async () => {
        const keyed =
          HIT === 'keys'
            ? new Set(
                (await eventsOf(stack, 'host.keys_delivered')).map(
                  (e) => `${e.validatorId}/${e.data?.generation}`,
                ),
              )
            : null;
        return (await listValidators<V>(stack)).find(
          (v) =>
            affected.has(v.id) &&
            v.state === 'failing_over' &&
            v.instanceId !== null &&
            v.zone !== dark &&
            (!keyed || keyed.has(`${v.id}/${v.generation}`)),
        );
      },
      60_000,
      100,
    );
    await fault(stack, { kind: 'instance-failure', instanceId: hit.instanceId });
    const hitAtS = since();
    // Still mid-move when its target failed? (If it had gone active already this is no double fault.)
    const hitState = (await listValidators<V>(stack)).find((v) => v.id === hit.id)!;
    const midMove = hitState.state === 'failing_over' && hitState.instanceId === hit.instanceId;
    log(
      `${hit.name} moving to ${hit.instanceId} in ${hit.zone}: target failed at ${round(hitAtS)} s (mid-move: ${midMove})`,
    );

    const movedAt = new Map<string, number>();
    let last: V[] = [];
    while (since() < BOUND_S && movedAt.size < affected.size) {
      await sleep(500);
      last = await listValidators<V>(stack);
      for (const v of last) {
        const was = affected.get(v.id);
        if (was && !movedAt.has(v.id) && movedOff(v, was, dark)) movedAt.set(v.id, since());
      }
    }
    const recoveredS = movedAt.size === affected.size ? Math.max(...movedAt.values()) : null;
    last = await listValidators<V>(stack);
    const stuck = [...affected.values()].filter(
      (was) =>
        !movedOff(
          last.find((v) => v.id === was.id)!,
          was,
          dark,
        ),
    );
    const hitNow = last.find((v) => v.id === hit.id)!;
    const replanned = (await eventsOf(stack, 'failover.replanned')).filter(
      (e) => e.validatorId === hit.id,
    ).length;
    log(
      `moved ${movedAt.size}/${affected.size} in ${round(recoveredS)} s; ${hit.name} on ${hitNow.instanceId} in ${hitNow.zone}, ${replanned} re-plan(s)`,
    );

    // The hit validator's timeline, for whoever reads the run's stderr.
    const timeline = (await (
      await stack.api(`/v1/validators/${hit.id}/events?limit=100`)
    ).json()) as {
      items: { type: string; message: string; createdAt: string }[];
    };
    for (const e of timeline.items)
      if (Date.parse(e.createdAt) >= t0)
        log(`  +${round((Date.parse(e.createdAt) - t0) / 1000)} s ${e.type}: ${e.message}`);

    // Later failovers still start: the hit validator's new host fails too, and it must move again.
    let laterOk = false;
    let laterS: number | null = null;
    if (hitNow.state === 'active' && hitNow.instanceId) {
      await fault(stack, { kind: 'instance-failure', instanceId: hitNow.instanceId });
      const tl = Date.now();
      laterOk = await waitFor(
        'a later failover of the hit validator',
        async () => {
          const v = (await listValidators<V>(stack)).find((x) => x.id === hit.id)!;
          return (
            v.state === 'active' &&
            v.generation > hitNow.generation &&
            v.zone !== dark &&
            v.instanceId !== hitNow.instanceId
          );
        },
        (MOVE_DEADLINE_S + 3 * (TTL_S + SKEW_S)) * 1000,
        500,
      ).catch((err: Error) => {
        log(err.message);
        return false;
      });
      if (laterOk) laterS = (Date.now() - tl) / 1000;
    }
    await sleep(2000);
    watch.stop();
    const final = await listValidators<V>(stack);

    const result = {
      validators: VALIDATORS,
      dark_zone_validators: affected.size,
      target_failed_when: HIT,
      target_failed_at_s: round(hitAtS),
      target_failed_mid_move: midMove,
      replanned,
      recovered_s: round(recoveredS),
      hit_recovered_s: round(movedAt.get(hit.id) ?? null),
      stuck: stuck.length,
      duplicates: watch.duplicated.size,
      later_failover_ok: laterOk,
      later_failover_s: round(laterS),
      active_at_end: final.filter((v) => v.state === 'active').length,
      deadline_s: MOVE_DEADLINE_S,
      max_attempts: MAX_ATTEMPTS,
      lease_ttl_s: TTL_S,
      lease_renew_s: RENEW_S,
      skew_margin_s: SKEW_S,
      samples: watch.samples(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (stuck.length) log(`stuck: ${stuck.map((v) => v.name).join(', ')}`);
    // One move is a fence (TTL + margin) plus the handover; the hit one may wait up to the deadline.
    const target = MOVE_DEADLINE_S + TTL_S + SKEW_S + 10;
    process.exitCode =
      midMove &&
      replanned >= 1 &&
      stuck.length === 0 &&
      result.duplicates === 0 &&
      laterOk &&
      (recoveredS ?? Infinity) <= target
        ? 0
        : 1;
  } finally {
    watch?.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `chaos:double-fault failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
