/**
 * `npm run chaos:control-plane`: Snowline's own outage. Starts the stack (api + worker + ecs-sim, own
 * database and Redis prefix), launches validators over three zones, then freezes the api and the
 * worker (SIGSTOP) for longer than the lease TTL — every agent self-fences, as it must — and resumes
 * them (SIGCONT). Every validator must run again within 60 s of the return, no NodeID may ever run
 * twice, and no host may stay fenced for good. Downtime and duplicates come from the simulator's
 * ground truth (which nodes actually run), sampled every 250 ms, never from Snowline's own rows.
 * Prints one JSON line. Loopback only; every wait is bounded.
 */
import { simNodes, type SimNode } from './support/ground-truth';
import { startStack, waitFor, type Stack } from './support/stack';

const VALIDATORS = Number(process.env.CHAOS_VALIDATORS ?? 12);
const TTL_S = Number(process.env.CHAOS_LEASE_TTL_SECONDS ?? 15);
const RENEW_S = Number(process.env.CHAOS_LEASE_RENEW_SECONDS ?? 3);
const FREEZE_S = Number(process.env.CHAOS_FREEZE_SECONDS ?? TTL_S * 2);
const BACK_TARGET_S = 60;

interface V {
  id: string;
  state: string;
  nodeId: string | null;
  instanceId: string | null;
}

const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;

async function listValidators(stack: Stack): Promise<V[]> {
  const res = await stack.api('/v1/validators?limit=100');
  return ((await res.json()) as { items: V[] }).items;
}

/** Ground truth sampler: per NodeID, the intervals it did not run, and any NodeID running twice. */
function watchNodes(simUrl: string, nodeIds: string[], everyMs: number) {
  const downSince = new Map<string, number>();
  const worstDown = new Map<string, number>(nodeIds.map((n) => [n, 0]));
  const duplicated = new Set<string>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      let nodes: SimNode[] | null = null;
      try {
        nodes = await simNodes(simUrl);
      } catch {
        /* a missed sample proves nothing either way */
      }
      if (nodes) {
        samples++;
        const running = new Map<string, number>();
        for (const n of nodes)
          if (n.running && n.nodeId) running.set(n.nodeId, (running.get(n.nodeId) ?? 0) + 1);
        for (const [id, c] of running) if (c > 1) duplicated.add(id);
        for (const id of nodeIds) {
          if (running.has(id)) {
            const since = downSince.get(id);
            if (since !== undefined) {
              worstDown.set(id, Math.max(worstDown.get(id)!, at - since));
              downSince.delete(id);
            }
          } else if (!downSince.has(id)) downSince.set(id, at);
        }
      }
      await sleep(Math.max(0, at + everyMs - Date.now()));
    }
  })();
  return {
    duplicated,
    samples: () => samples,
    /** Worst downtime per NodeID so far, counting an outage still under way up to now. */
    worst: () =>
      Math.max(
        0,
        ...nodeIds.map((id) =>
          Math.max(worstDown.get(id)!, downSince.has(id) ? Date.now() - downSince.get(id)! : 0),
        ),
      ),
    allRunning: () => nodeIds.every((id) => !downSince.has(id)),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function main() {
  const stack = await startStack('chaos-cp', {
    LOG_LEVEL: 'warn',
    SIM_TIME_SCALE: '0.5',
    SIM_BOOTSTRAP_SECONDS: '2',
    LEASE_TTL_SECONDS: String(TTL_S),
    LEASE_RENEW_SECONDS: String(RENEW_S),
    STANDBY_POOL: 'fuji=1',
  });
  let watch: ReturnType<typeof watchNodes> | undefined;
  try {
    log(`stack up; launching ${VALIDATORS} validators (TTL ${TTL_S} s, renew ${RENEW_S} s)`);
    for (let i = 0; i < VALIDATORS; i++) {
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `cp-${i}` },
      });
      if (res.status !== 202) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    }
    const before = await waitFor(
      'every validator active',
      async () => {
        const vs = await listValidators(stack);
        return vs.filter((v) => v.state === 'active').length === VALIDATORS ? vs : undefined;
      },
      180_000,
      1000,
    );
    const nodeIds = before.map((v) => v.nodeId!);
    watch = watchNodes(stack.simUrl, nodeIds, 250);
    await waitFor('every node running in the ground truth', async () => watch!.allRunning());
    await sleep(2 * RENEW_S * 1000);

    log(`freezing api and worker for ${FREEZE_S} s (TTL ${TTL_S} s)`);
    const frozen = [stack.procs.api!, stack.procs.worker!];
    for (const p of frozen) p.kill('SIGSTOP');
    const frozenAt = Date.now();
    // The agents must stop their nodes by themselves: nobody can tell them they still hold a lease.
    const selfFenced = await waitFor(
      'the agents to self-fence',
      async () => ((await simNodes(stack.simUrl)).every((n) => !n.running) ? true : undefined),
      FREEZE_S * 1000,
      500,
    ).catch(() => false);
    await sleep(Math.max(0, frozenAt + FREEZE_S * 1000 - Date.now()));
    for (const p of frozen) p.kill('SIGCONT');
    const resumedAt = Date.now();
    log(`resumed; every agent self-fenced: ${selfFenced}`);

    let backAfter: number | null = null;
    await waitFor(
      'every validator running and active again',
      async () => {
        if (!watch!.allRunning()) return undefined;
        const vs = await listValidators(stack);
        if (vs.filter((v) => v.state === 'active').length !== VALIDATORS) return undefined;
        backAfter = (Date.now() - resumedAt) / 1000;
        return true;
      },
      (BACK_TARGET_S + 60) * 1000,
      500,
    ).catch((err: Error) => log(err.message));
    await sleep(3 * RENEW_S * 1000); // and they stay up
    const worst = watch.worst();
    await watch.stop();

    const hosts = (await (await stack.api('/v1/events?types=host.fenced&limit=100')).json()) as {
      items: unknown[];
    };
    const rearmed = (await (await stack.api('/v1/events?types=host.rearmed&limit=100')).json()) as {
      items: unknown[];
    };
    const after = await listValidators(stack);
    const result = {
      validators: VALIDATORS,
      lease_ttl_s: TTL_S,
      freeze_s: FREEZE_S,
      self_fenced: selfFenced,
      worst_node_downtime_s: round(worst / 1000),
      back_after_s: backAfter === null ? null : round(backAfter),
      duplicates: watch.duplicated.size,
      fenced_hosts: hosts.items.length,
      rearmed: rearmed.items.length,
      active_at_end: after.filter((v) => v.state === 'active').length,
      samples: watch.samples(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exitCode =
      result.back_after_s !== null &&
      result.back_after_s <= BACK_TARGET_S &&
      result.duplicates === 0 &&
      result.fenced_hosts === 0 &&
      result.active_at_end === VALIDATORS
        ? 0
        : 1;
  } finally {
    await watch?.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `chaos:control-plane failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
