import { acknowledgesStop, canGrantKeys } from './fencing';
import { decideLease } from './lease';

/**
 * A pure, discrete-event model of the fencing protocol: N hosts running the Agent's rules (lease renewals,
 * keys once per generation, stop on 409/standby/reassignment, self-fence a stop budget before the lease
 * ends on the host's own, drifting clock, SIGKILL at its end), and a control plane that decides every
 * renewal with production's own `decideLease` (fence, renew, re-arm), moves one identity onto standbys
 * only, and grants keys only when `canGrantKeys` allows it for every former holder. With `ackStops`, a
 * fenced agent acknowledges its stop once its node has exited (a planned move's hand-over) and the
 * control plane counts the ack through `acknowledgesStop`. The property test drives it with random
 * partitions, deaths, duplicates, delays, clock drift, control-plane outages and cloud stops that take
 * effect (and are reported) late.
 */

export interface FencingModelConfig {
  hosts: number;
  ttlMs: number;
  skewMarginMs: number;
  /** Max |clock rate − 1| of any agent (e.g. 0.001 = 1000 ppm). */
  maxDrift: number;
  /** How long a node takes to stop once the agent decides to (SIGTERM → SIGKILL worst case). */
  stopMs: number;
  renewMs: number;
  /** The agent retries keys this long after sending when no answer came (its request timeout). */
  keysTimeoutMs: number;
  /** retryAfterMs the control plane puts in a 425. */
  retryAfterMs: number;
  /**
   * The agent's stop budget: it sends SIGTERM this long before its lease ends on its own clock and
   * SIGKILL at the end, so a node is dead when its lease is (0: stop at the TTL, taking up to stopMs).
   */
  stopBudgetMs?: number;
  /** A cloud stop call returns at once; the instance goes down this long after it (ECS: not at once). */
  stopEffectMs?: number;
  /** The cloud reports an instance `Stopped` this long after it really stopped. */
  stoppedReportLagMs?: number;
  /**
   * Deliberately wrong control plane for a negative test: check only the immediate predecessor's lease
   * instead of every former holder's.
   */
  onlyImmediatePredecessor?: boolean;
  /** Deliberately wrong control plane for a negative test: a sent stop call counts as a confirmed stop. */
  trustStopCall?: boolean;
  /**
   * A fenced agent acknowledges its stop (POST /v1/agent/stopped) once its node has exited, promising
   * never to run a generation up to the last one it learned; the control plane may then hand the keys
   * over at once instead of waiting out the lease (a planned move). Re-sent on every refused renewal.
   */
  ackStops?: boolean;
  /** Deliberately wrong agent for a negative test: acknowledge at SIGTERM, before the node exited. */
  ackAtSigterm?: boolean;
}

/** What the environment does; the agents and the control plane react on their own (timers, messages). */
export type FencingAction =
  | { k: 'partition'; h: number }
  | { k: 'heal'; h: number }
  | { k: 'kill'; h: number }
  | { k: 'revive'; h: number }
  | { k: 'failover'; to: number }
  | { k: 'confirmStopped'; h: number }
  /** The control plane asks the cloud to force-stop host h's instance (cloud-confirmed fencing). */
  | { k: 'cloudStop'; h: number }
  /** The control plane (api + worker) is frozen: it answers nothing and moves nothing until cpUp. */
  | { k: 'cpDown' }
  | { k: 'cpUp' }
  | { k: 'advance'; dt: number };

interface Host {
  alive: boolean;
  partitioned: boolean;
  rate: number;
  /** Generation the node runs; null when none. */
  runningGen: number | null;
  /** True time until which a stopping node may still be up. */
  stopsAt: number;
  lastRenewLocal: number | null;
  pendingGen: number | null;
  /** Generations whose keys were refused: never retried. */
  refused: Set<number>;
  /** Local-clock times of the agent's next lease renewal and next keys attempt. */
  nextRenewLocal: number;
  nextKeysLocal: number;
  epoch: number; // bumps on kill/revive so in-flight messages of a previous life are dropped
  /** The highest generation this agent learned it was given (−1: none); what its ack covers. */
  maxGen: number;
  /** The agent promised never to run a generation ≤ this one (−1: no promise). Lost on reboot. */
  releasedThrough: number;
  /** True time of the pending stop acknowledgment, and what it covers. */
  ackAt: number;
  ackThrough: number;
}

type Msg =
  | {
      at: number;
      kind: 'cpLease';
      h: number;
      epoch: number;
      gen: number | null;
      sentLocal: number;
      d2: number;
    }
  | {
      at: number;
      kind: 'agentLease';
      h: number;
      epoch: number;
      sentLocal: number;
      reply: LeaseReply;
    }
  | { at: number; kind: 'cpKeys'; h: number; epoch: number; gen: number; d2: number }
  | {
      at: number;
      kind: 'agentKeys';
      h: number;
      epoch: number;
      gen: number;
      status: 200 | 409 | 410 | 425;
    }
  /** The cloud's stop takes effect: the instance (and its node) is down. */
  | { at: number; kind: 'cloudStopped'; h: number; epoch: number }
  /** The cloud's API now reports the instance Stopped; the control plane records the confirmation. */
  | { at: number; kind: 'cloudReportsStopped'; h: number; epoch: number }
  /** A fenced agent's stop acknowledgment: its node is down, it runs no generation ≤ `through`. */
  | { at: number; kind: 'cpAck'; h: number; through: number };

type LeaseReply = { status: 200; gen: number | null } | { status: 409 };

export interface FencingModelResult {
  violation: string | null;
  starts: number;
  /** Generation the control plane ended at, and whether the current holder ran it at the end. */
  generation: number;
  holderRuns: boolean;
  /** Hosts the control plane fenced for good. */
  fenced: number[];
}

/** Network behaviour, consumed cyclically: per-message delays and whether a lease request is duplicated. */
export interface FencingNetwork {
  delays: number[];
  dups: boolean[];
}

export function runFencingModel(
  cfg: FencingModelConfig,
  rates: number[],
  actions: FencingAction[],
  net: FencingNetwork = { delays: [10], dups: [false] },
): FencingModelResult {
  let now = 0;
  let di = 0;
  let ui = 0;
  const delay = () => net.delays[di++ % net.delays.length] ?? 0;
  const dup = () => net.dups[ui++ % net.dups.length] ?? false;
  let starts = 0;
  const hosts: Host[] = Array.from({ length: cfg.hosts }, (_, i) => ({
    alive: true,
    partitioned: false,
    rate: rates[i] ?? 1,
    runningGen: null,
    stopsAt: 0,
    lastRenewLocal: null,
    pendingGen: null,
    refused: new Set(),
    nextRenewLocal: 0,
    nextKeysLocal: Infinity,
    epoch: 0,
    maxGen: i === 0 ? 0 : -1,
    releasedThrough: -1,
    ackAt: Infinity,
    ackThrough: -1,
  }));
  // The control plane's rows, as production keeps them: the validator, and a row per host.
  interface Row {
    role: 'assigned' | 'standby';
    generation: number | null;
    fenced: boolean;
    leaseExpires: number | null;
    keysFetched: number | null;
  }
  const rows: Row[] = hosts.map((_, i) => ({
    role: i === 0 ? 'assigned' : 'standby',
    generation: i === 0 ? 0 : null,
    fenced: false,
    leaseExpires: null,
    keysFetched: null,
  }));
  const cp = {
    generation: 0,
    holder: 0 as number,
    up: true,
    formerHolders: new Set<number>(),
    immediatePredecessor: null as number | null,
    confirmedStopped: new Set<number>(),
    acked: new Set<number>(),
  };
  const stopBudget = cfg.stopBudgetMs ?? 0;
  const queue: Msg[] = [];
  let violation: string | null = null;

  const local = (h: Host) => now * h.rate;
  const reachable = (h: number, epoch: number) =>
    hosts[h].alive && !hosts[h].partitioned && hosts[h].epoch === epoch;

  /** True time at which the host's lease ends on its own clock. */
  const leaseEnd = (h: Host): number =>
    h.lastRenewLocal === null ? Infinity : (h.lastRenewLocal + cfg.ttlMs) / h.rate;

  const stopNode = (h: Host) => {
    if (h.runningGen !== null) {
      // SIGTERM now, SIGKILL after stopMs — and with a stop budget never later than the lease end.
      const dead = stopBudget > 0 ? Math.min(now + cfg.stopMs, leaseEnd(h)) : now + cfg.stopMs;
      h.stopsAt = Math.max(h.stopsAt, dead);
    }
    h.runningGen = null;
    h.pendingGen = null;
  };

  const selfFenceDue = (h: Host): number =>
    h.alive && h.lastRenewLocal !== null && (h.runningGen !== null || h.pendingGen !== null)
      ? (h.lastRenewLocal + cfg.ttlMs - stopBudget) / h.rate
      : Infinity;

  const cpMayGrant = (to: number): boolean => {
    const others = cfg.onlyImmediatePredecessor
      ? cp.immediatePredecessor === null || cp.immediatePredecessor === to
        ? []
        : [cp.immediatePredecessor]
      : [...cp.formerHolders].filter((h) => h !== to);
    return others.every((h) =>
      canGrantKeys({
        now,
        previousLeaseExpiresAt: rows[h].leaseExpires,
        skewMarginMs: cfg.skewMarginMs,
        previousInstanceStopped: cp.confirmedStopped.has(h),
        previousStopAcknowledged: cp.acked.has(h),
      }),
    );
  };

  const deliver = (m: Msg) => {
    const h = hosts[m.h];
    switch (m.kind) {
      case 'cpLease': {
        if (!cp.up) return; // a frozen control plane answers nothing
        const row = rows[m.h];
        const d = decideLease({
          hostId: String(m.h),
          host: {
            exists: true,
            deleted: false,
            fenced: row.fenced,
            role: row.role,
            validatorId: row.role === 'assigned' ? 'v' : null,
            generation: row.generation,
            leaseExpiresAt: row.leaseExpires,
            keysFetchedGeneration: row.keysFetched,
          },
          validator: { state: 'active', hostId: String(cp.holder), generation: cp.generation },
          requestGeneration: m.gen,
          now,
        });
        let reply: LeaseReply;
        if (d.kind === 'fence') {
          row.fenced = true; // refused, lease not extended
          reply = { status: 409 };
        } else {
          row.leaseExpires = Math.max(row.leaseExpires ?? 0, now + cfg.ttlMs);
          if (d.kind === 'renew' && d.rearm) {
            cp.generation++;
            row.generation = cp.generation;
          }
          reply = { status: 200, gen: d.kind === 'renew' ? cp.generation : null };
        }
        queue.push({
          at: now + m.d2,
          kind: 'agentLease',
          h: m.h,
          epoch: m.epoch,
          sentLocal: m.sentLocal,
          reply,
        });
        return;
      }
      case 'agentLease': {
        if (!reachable(m.h, m.epoch)) return;
        if (m.reply.status === 409) {
          stopNode(h);
          if (cfg.ackStops && h.maxGen >= 0) {
            // The promise holds from now on; the ack leaves once the node has exited.
            h.releasedThrough = Math.max(h.releasedThrough, h.maxGen);
            h.ackThrough = h.releasedThrough;
            h.ackAt = Math.min(h.ackAt, cfg.ackAtSigterm ? now : Math.max(now, h.stopsAt));
          }
          return;
        }
        h.lastRenewLocal = Math.max(h.lastRenewLocal ?? -Infinity, m.sentLocal);
        const g = m.reply.gen;
        // A late 200 for a generation it gave up (answers can overtake each other): promised never to.
        if (g !== null && g <= h.releasedThrough) return;
        if (g !== null) h.maxGen = Math.max(h.maxGen, g);
        if (g === null) return stopNode(h);
        if (g === h.runningGen || g === h.pendingGen || h.refused.has(g)) return;
        stopNode(h);
        h.pendingGen = g;
        h.nextKeysLocal = Math.max(now, h.stopsAt) * h.rate; // keys only once the old node is down
        return;
      }
      case 'cpKeys': {
        if (!cp.up) return;
        const row = rows[m.h];
        let status: 200 | 409 | 410 | 425;
        if (row.fenced || m.h !== cp.holder || m.gen !== cp.generation || row.generation !== m.gen)
          status = 409;
        else if (row.keysFetched === m.gen) status = 410;
        else if (!cpMayGrant(m.h)) status = 425;
        else {
          row.keysFetched = m.gen;
          status = 200;
        }
        queue.push({
          at: now + m.d2,
          kind: 'agentKeys',
          h: m.h,
          epoch: m.epoch,
          gen: m.gen,
          status,
        });
        return;
      }
      case 'agentKeys': {
        if (!reachable(m.h, m.epoch) || h.pendingGen !== m.gen) return;
        if (m.gen <= h.releasedThrough) return;
        if (m.status === 425) {
          h.nextKeysLocal = local(h) + cfg.retryAfterMs;
          return;
        }
        if (m.status !== 200) {
          h.refused.add(m.gen);
          h.pendingGen = null;
          return;
        }
        const leaseHeld = h.lastRenewLocal !== null && local(h) - h.lastRenewLocal < cfg.ttlMs;
        if (!leaseHeld || h.stopsAt > now) return; // the Agent starts only with a live lease, old node down
        const other = hosts.findIndex(
          (o, i) => i !== m.h && (o.runningGen !== null || o.stopsAt > now),
        );
        if (other >= 0) {
          violation = `t=${now}: host ${m.h} starts gen ${m.gen} while host ${other} still runs gen ${hosts[other].runningGen} (up until ${hosts[other].stopsAt})`;
        }
        h.runningGen = m.gen;
        h.pendingGen = null;
        starts++;
        return;
      }
      case 'cloudStopped': {
        if (h.epoch !== m.epoch || !h.alive) return;
        kill(m.h);
        queue.push({
          at: now + (cfg.stoppedReportLagMs ?? 0),
          kind: 'cloudReportsStopped',
          h: m.h,
          epoch: h.epoch,
        });
        return;
      }
      case 'cloudReportsStopped':
        // The cloud tells the truth, late; the control plane only believes what it reports.
        if (h.epoch === m.epoch && !h.alive) cp.confirmedStopped.add(m.h);
        return;
      case 'cpAck': {
        if (!cp.up) return;
        const row = rows[m.h];
        const counts = acknowledgesStop({
          fenced: row.fenced,
          hostGeneration: row.generation,
          stoppedThroughGeneration: m.through,
        });
        if (counts) cp.acked.add(m.h);
        return;
      }
    }
  };

  const kill = (i: number) => {
    const h = hosts[i];
    h.alive = false;
    h.runningGen = null; // the machine is gone, and its node with it
    h.pendingGen = null;
    h.stopsAt = Math.min(h.stopsAt, now);
    h.epoch++;
    h.ackAt = Infinity;
  };

  const sendAck = (i: number) => {
    const h = hosts[i];
    h.ackAt = Infinity;
    if (h.partitioned) return; // lost; the next refused renewal sends another
    // An ack is delivered even after the host dies: it was true when sent.
    queue.push({ at: now + delay(), kind: 'cpAck', h: i, through: h.ackThrough });
  };

  const sendRenew = (i: number) => {
    const h = hosts[i];
    h.nextRenewLocal = local(h) + cfg.renewMs;
    if (h.partitioned) return; // lost
    const msg = {
      kind: 'cpLease' as const,
      h: i,
      epoch: h.epoch,
      gen: h.runningGen ?? h.pendingGen,
      sentLocal: local(h),
    };
    const d1 = delay();
    queue.push({ ...msg, at: now + d1, d2: delay() });
    if (dup()) queue.push({ ...msg, at: now + d1 + delay() + 1, d2: delay() });
  };

  const sendKeys = (i: number) => {
    const h = hosts[i];
    h.nextKeysLocal = local(h) + cfg.keysTimeoutMs; // retried after a timeout unless an answer changes it
    if (h.partitioned || h.pendingGen === null) return;
    queue.push({
      at: now + delay(),
      kind: 'cpKeys',
      h: i,
      epoch: h.epoch,
      gen: h.pendingGen,
      d2: delay(),
    });
  };

  const advanceTo = (target: number) => {
    for (;;) {
      queue.sort((a, b) => a.at - b.at);
      type Next = { at: number; run: () => void };
      let best: Next = { at: Infinity, run: () => undefined };
      const consider = (at: number, run: () => void) => {
        if (at < best.at) best = { at, run };
      };
      if (queue[0]) consider(queue[0].at, () => deliver(queue.shift()!));
      hosts.forEach((h, i) => {
        if (!h.alive) return;
        consider(selfFenceDue(h), () => stopNode(h));
        consider(h.nextRenewLocal / h.rate, () => sendRenew(i));
        if (h.pendingGen !== null) consider(h.nextKeysLocal / h.rate, () => sendKeys(i));
        consider(h.ackAt, () => sendAck(i));
      });
      if (best.at > target) break;
      now = Math.max(now, best.at);
      best.run();
      if (violation) return;
    }
    now = target;
  };

  for (const a of actions) {
    if (violation) break;
    switch (a.k) {
      case 'advance':
        advanceTo(now + a.dt);
        break;
      case 'partition':
        hosts[a.h].partitioned = true;
        break;
      case 'heal':
        hosts[a.h].partitioned = false;
        break;
      case 'kill':
        if (hosts[a.h].alive) kill(a.h);
        break;
      case 'revive': {
        const h = hosts[a.h];
        if (h.alive) break;
        // A rebooted instance: its agent starts over with no lease and no keys. A confirmed stop stays
        // confirmed (production never clears it): the host is a former holder and gets fenced.
        Object.assign(h, {
          alive: true,
          lastRenewLocal: null,
          refused: new Set(),
          epoch: h.epoch + 1,
          maxGen: -1,
          releasedThrough: -1,
          ackAt: Infinity,
        });
        break;
      }
      case 'cloudStop': {
        const h = hosts[a.h];
        if (cfg.trustStopCall) cp.confirmedStopped.add(a.h);
        if (h.alive)
          queue.push({
            at: now + (cfg.stopEffectMs ?? 0),
            kind: 'cloudStopped',
            h: a.h,
            epoch: h.epoch,
          });
        break;
      }
      case 'cpDown':
        cp.up = false;
        break;
      case 'cpUp':
        cp.up = true;
        break;
      case 'confirmStopped':
        if (!hosts[a.h].alive) cp.confirmedStopped.add(a.h); // the cloud API tells the truth
        break;
      case 'failover': {
        // As FailoverService: only a running control plane moves, and only onto an unfenced standby.
        const to = rows[a.to];
        if (!cp.up || to.role !== 'standby' || to.fenced) break;
        cp.formerHolders.add(cp.holder);
        cp.immediatePredecessor = cp.holder;
        cp.holder = a.to;
        cp.generation++;
        Object.assign(to, { role: 'assigned', generation: cp.generation, keysFetched: null });
        break;
      }
    }
    const live = hosts.filter((h) => h.runningGen !== null).length;
    if (!violation && live > 1) violation = `t=${now}: ${live} hosts run the identity`;
  }
  return {
    violation,
    starts,
    generation: cp.generation,
    holderRuns: hosts[cp.holder].runningGen === cp.generation,
    fenced: rows.flatMap((r, i) => (r.fenced ? [i] : [])),
  };
}
