import { canGrantKeys } from './fencing';

/**
 * A pure, discrete-event model of the fencing protocol: N hosts running the Agent's rules (lease renewals,
 * keys once per generation, stop on 409/standby/reassignment, self-fence after a TTL on the host's own,
 * drifting clock), and a control plane that moves one identity between hosts and grants keys only when
 * `canGrantKeys` allows it for every former holder. It mirrors Agent (agent.ts) decision for decision;
 * the property test drives it with random partitions, deaths, duplicates, delays and clock drift.
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
   * Deliberately wrong control plane for a negative test: check only the immediate predecessor's lease
   * instead of every former holder's.
   */
  onlyImmediatePredecessor?: boolean;
}

/** What the environment does; the agents and the control plane react on their own (timers, messages). */
export type FencingAction =
  | { k: 'partition'; h: number }
  | { k: 'heal'; h: number }
  | { k: 'kill'; h: number }
  | { k: 'revive'; h: number }
  | { k: 'failover'; to: number }
  | { k: 'confirmStopped'; h: number }
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
    };

type LeaseReply = { status: 200; gen: number | null } | { status: 409 };

export interface FencingModelResult {
  violation: string | null;
  starts: number;
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
  }));
  const cp = {
    generation: 0,
    holder: 0 as number,
    leaseExpires: new Map<number, number>(),
    formerHolders: new Set<number>(),
    immediatePredecessor: null as number | null,
    granted: new Set<string>(),
    confirmedStopped: new Set<number>(),
  };
  const queue: Msg[] = [];
  let violation: string | null = null;

  const local = (h: Host) => now * h.rate;
  const reachable = (h: number, epoch: number) =>
    hosts[h].alive && !hosts[h].partitioned && hosts[h].epoch === epoch;

  const stopNode = (h: Host) => {
    if (h.runningGen !== null) h.stopsAt = Math.max(h.stopsAt, now + cfg.stopMs);
    h.runningGen = null;
    h.pendingGen = null;
  };

  const selfFenceDue = (h: Host): number =>
    h.alive && h.lastRenewLocal !== null && (h.runningGen !== null || h.pendingGen !== null)
      ? (h.lastRenewLocal + cfg.ttlMs) / h.rate
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
        previousLeaseExpiresAt: cp.leaseExpires.get(h) ?? null,
        skewMarginMs: cfg.skewMarginMs,
        previousInstanceStopped: cp.confirmedStopped.has(h),
      }),
    );
  };

  const deliver = (m: Msg) => {
    const h = hosts[m.h];
    switch (m.kind) {
      case 'cpLease': {
        let reply: LeaseReply;
        if (m.h === cp.holder && (m.gen === null || m.gen === cp.generation)) {
          cp.leaseExpires.set(m.h, Math.max(cp.leaseExpires.get(m.h) ?? 0, now + cfg.ttlMs));
          reply = { status: 200, gen: cp.generation };
        } else if (m.gen !== null) {
          reply = { status: 409 }; // stale generation: refused, lease not extended
        } else {
          reply = { status: 200, gen: null }; // standby
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
        if (m.reply.status === 409) return stopNode(h);
        h.lastRenewLocal = Math.max(h.lastRenewLocal ?? -Infinity, m.sentLocal);
        const g = m.reply.gen;
        if (g === null) return stopNode(h);
        if (g === h.runningGen || g === h.pendingGen || h.refused.has(g)) return;
        stopNode(h);
        h.pendingGen = g;
        h.nextKeysLocal = Math.max(now, h.stopsAt) * h.rate; // keys only once the old node is down
        return;
      }
      case 'cpKeys': {
        let status: 200 | 409 | 410 | 425;
        if (m.h !== cp.holder || m.gen !== cp.generation) status = 409;
        else if (cp.granted.has(`${m.h}:${m.gen}`)) status = 410;
        else if (!cpMayGrant(m.h)) status = 425;
        else {
          cp.granted.add(`${m.h}:${m.gen}`);
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
    }
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
      case 'kill': {
        const h = hosts[a.h];
        h.alive = false;
        h.runningGen = null; // the machine is gone, and its node with it
        h.pendingGen = null;
        h.stopsAt = Math.min(h.stopsAt, now);
        h.epoch++;
        break;
      }
      case 'revive': {
        const h = hosts[a.h];
        if (h.alive) break;
        Object.assign(h, {
          alive: true,
          lastRenewLocal: null,
          refused: new Set(),
          epoch: h.epoch + 1,
        });
        cp.confirmedStopped.delete(a.h);
        break;
      }
      case 'confirmStopped':
        if (!hosts[a.h].alive) cp.confirmedStopped.add(a.h); // the cloud API tells the truth
        break;
      case 'failover':
        if (a.to === cp.holder) break;
        cp.formerHolders.add(cp.holder);
        cp.immediatePredecessor = cp.holder;
        cp.holder = a.to;
        cp.generation++;
        break;
    }
    const live = hosts.filter((h) => h.runningGen !== null).length;
    if (!violation && live > 1) violation = `t=${now}: ${live} hosts run the identity`;
  }
  return { violation, starts };
}
