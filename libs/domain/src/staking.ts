/**
 * Staking rules, pure: which uptime requirement and stake durations apply to a validation, how much
 * downtime it can still afford, and what Snowline concludes from the network's view of it.
 *
 * Every protocol constant is AvalancheGo's, checked in ava-labs/avalanchego at tag v1.15.0-fuji
 * (the first release that schedules Helicon): genesis/genesis_{mainnet,fuji,local}.go
 * (StakingConfig), upgrade/upgrade.go (HeliconTime), vms/platformvm/block/executor/options.go
 * (prefersCommit: the reward vote), vms/platformvm/txs/executor/staker_tx_verification_helpers.go
 * (primaryNetworkValidatorMinStakeDuration) and snow/uptime/manager.go (CalculateUptimePercentFrom).
 *
 * All times are P-chain times (ms since the epoch, the clock nodes report with platform.getTimestamp)
 * except `observedAt` and `now`, which are the control plane's clock and only measure staleness.
 */
import type { Network } from './validator-state';
import type { NetworkUpgrade } from './versions';
import type { L1Balance, L1EventType } from './l1';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** utils/units: 1 AVAX = 10^9 nAVAX. */
const AVAX = 1_000_000_000n;

/**
 * Helicon on Fuji: upgrade/upgrade.go at v1.15.0-fuji, `Fuji.HeliconTime = 2026-07-28 15:00 UTC`.
 */
export const FUJI_HELICON_TIME = Date.UTC(2026, 6, 28, 15, 0, 0);
/**
 * Helicon on mainnet: 2026-09-22 15:00 UTC, as the v1.15.0 release schedules it (the source libs/config
 * network-upgrades.ts cites). Not in the source checked here: upgrade/upgrade.go at v1.15.0-fuji (and
 * master of 2026-08-22) still has `Mainnet.HeliconTime = UnscheduledActivationTime`.
 */
export const MAINNET_HELICON_TIME = Date.UTC(2026, 8, 22, 15, 0, 0);

export interface NetworkStakingRules {
  /** When Helicon activates (upgrade/upgrade.go HeliconTime); null = not scheduled. */
  heliconTime: number | null;
  /** genesis StakingConfig.UptimeRequirement: validations that start before Helicon. */
  uptimeRequirement: number;
  /** ACP-267 (options.go prefersCommit): validations that start at or after Helicon. */
  heliconUptimeRequirement: number;
  /** genesis StakingConfig.MinStakeDuration (before Helicon). */
  minStakeDurationMs: number;
  /** genesis StakingConfig.HeliconMinStakeDuration (ACP-273). */
  heliconMinStakeDurationMs: number;
  /** genesis StakingConfig.MaxStakeDuration. */
  maxStakeDurationMs: number;
  /** genesis StakingConfig.MinValidatorStake / MaxValidatorStake, nAVAX. */
  minValidatorStake: bigint;
  maxValidatorStake: bigint;
}

/** ACP-267: "90% uptime for Primary Network validators that start at or after Helicon activation". */
const ACP267_UPTIME_REQUIREMENT = 0.9;

export const STAKING_RULES: Readonly<Record<Network, NetworkStakingRules>> = {
  mainnet: {
    heliconTime: MAINNET_HELICON_TIME,
    uptimeRequirement: 0.8,
    heliconUptimeRequirement: ACP267_UPTIME_REQUIREMENT,
    minStakeDurationMs: 14 * DAY_MS,
    heliconMinStakeDurationMs: 48 * HOUR_MS,
    maxStakeDurationMs: 365 * DAY_MS,
    minValidatorStake: 2_000n * AVAX,
    maxValidatorStake: 3_000_000n * AVAX,
  },
  fuji: {
    heliconTime: FUJI_HELICON_TIME,
    uptimeRequirement: 0.8,
    heliconUptimeRequirement: ACP267_UPTIME_REQUIREMENT,
    minStakeDurationMs: 24 * HOUR_MS,
    heliconMinStakeDurationMs: 12 * HOUR_MS,
    maxStakeDurationMs: 365 * DAY_MS,
    minValidatorStake: 1n * AVAX,
    maxValidatorStake: 3_000_000n * AVAX,
  },
  // genesis_local.go; upgrade.Default leaves Helicon unscheduled at v1.15.0-fuji.
  local: {
    heliconTime: null,
    uptimeRequirement: 0.8,
    heliconUptimeRequirement: ACP267_UPTIME_REQUIREMENT,
    minStakeDurationMs: 24 * HOUR_MS,
    heliconMinStakeDurationMs: 1 * HOUR_MS,
    maxStakeDurationMs: 365 * DAY_MS,
    minValidatorStake: 2_000n * AVAX,
    maxValidatorStake: 3_000_000n * AVAX,
  },
};

/**
 * The rules with Helicon dated by the network-upgrade calendar (config NETWORK_UPGRADES and the
 * published activations, versions.ts): one date for both the version deadlines and the uptime
 * requirement. A network the calendar does not name keeps its own.
 */
export function stakingRulesFor(
  calendar: readonly Pick<NetworkUpgrade, 'network' | 'name' | 'activatesAt'>[],
  base: Readonly<Record<Network, NetworkStakingRules>> = STAKING_RULES,
): Record<Network, NetworkStakingRules> {
  const out = { ...base };
  for (const u of calendar)
    if (u.name.toLowerCase() === 'helicon')
      out[u.network] = { ...out[u.network], heliconTime: u.activatesAt };
  return out;
}

/** upgrade.Config.IsHeliconActivated: `!t.Before(HeliconTime)`, i.e. at or after activation. */
export function heliconActive(network: Network, atMs: number, rules = STAKING_RULES): boolean {
  const t = rules[network].heliconTime;
  return t !== null && atMs >= t;
}

/** The fraction of its period a validation must be up to be rewarded, by its start time. */
export function uptimeRequirement(
  network: Network,
  startMs: number,
  rules = STAKING_RULES,
): number {
  const r = rules[network];
  return heliconActive(network, startMs, rules) ? r.heliconUptimeRequirement : r.uptimeRequirement;
}

/**
 * The durations a new primary-network validation may have. The P-chain applies the minimum by its
 * chain time when the transaction is accepted; since Durango that is the validation's start time.
 */
export function stakeDurationLimits(
  network: Network,
  atMs: number,
  rules = STAKING_RULES,
): { minMs: number; maxMs: number } {
  const r = rules[network];
  return {
    minMs: heliconActive(network, atMs, rules) ? r.heliconMinStakeDurationMs : r.minStakeDurationMs,
    maxMs: r.maxStakeDurationMs,
  };
}

export interface DowntimeBudget {
  durationMs: number;
  requirement: number;
  /** (1 − requirement) × duration: all the downtime the period can take and still be rewarded. */
  budgetMs: number;
  /** (1 − uptime) × time elapsed since the start, as the network measured it. */
  downtimeMs: number;
  /** budget − downtime; below 0 the reward is lost. */
  budgetLeftMs: number;
  /** Even with no more downtime the period's uptime cannot reach the requirement. */
  lost: boolean;
}

/**
 * The downtime budget at P-chain time `atMs` of a validation measured at `uptime` (0–1, the
 * fraction of the time since its start that it was up: CalculateUptimePercentFrom). The reward vote
 * at the end asks uptime ≥ requirement, i.e. downtime ≤ (1 − requirement) × duration: so the reward
 * is lost as soon as the downtime so far exceeds the budget, whatever happens after.
 */
export function downtimeBudget(i: {
  startMs: number;
  endMs: number;
  requirement: number;
  uptime: number;
  atMs: number;
}): DowntimeBudget {
  const durationMs = Math.max(0, i.endMs - i.startMs);
  const elapsed = Math.min(durationMs, Math.max(0, i.atMs - i.startMs));
  const uptime = Math.min(1, Math.max(0, i.uptime));
  // Whole milliseconds: a downtime exactly at the budget is rewarded, whatever float rounding says.
  const budgetMs = Math.round((1 - i.requirement) * durationMs);
  const downtimeMs = Math.round((1 - uptime) * elapsed);
  const budgetLeftMs = budgetMs - downtimeMs;
  return {
    durationMs,
    requirement: i.requirement,
    budgetMs,
    downtimeMs,
    budgetLeftMs,
    lost: budgetLeftMs < 0,
  };
}

// ---- The network's view of one validator --------------------------------------------------------

export interface StakeWindow {
  txId: string;
  startMs: number;
  endMs: number;
  /** nAVAX, a decimal string (weights exceed 2^53). */
  weight: string;
  /** ACP-236 auto-renewed staking (the validator has a validatorAuthority). */
  autoRenew: boolean;
}

/** What one node said about one NodeID, in one staking report. */
export interface StakingObservation {
  /** `self`: the validator's own node (info.uptime); `peer`: another node's getCurrentValidators. */
  kind: 'self' | 'peer';
  /** The control plane's clock when the report arrived. */
  observedAt: number;
  /** The observer's P-chain clock at the look-up (platform.getTimestamp). */
  pchainTime: number;
  /** The observer's P-chain lists the NodeID among the current validators. */
  registered: boolean;
  stake: StakeWindow | null;
  /** Uptime 0–1 as the observer measured it; null when it measures none (L1 validators). */
  uptime: number | null;
}

export const STAKING_STATUSES = [
  /** No observation newer than the stale limit: what is shown is the last one, with its age. */
  'unknown',
  'not_registered',
  /** Registered, but nobody measures its uptime (an L1 validator). */
  'registered',
  'ok',
  'at_risk',
  'lost',
] as const;
export type StakingStatus = (typeof STAKING_STATUSES)[number];

export interface StakingSettings {
  /** An observation older than this (control-plane clock) no longer counts as current. */
  staleAfterMs: number;
  /** At risk when the budget left is below this fraction of the budget (0–1). */
  atRiskFraction: number;
  /** `period ending` this long before the end (at most a quarter of the period). */
  periodEndingMs: number;
}

export interface StakingView {
  status: StakingStatus;
  /** When `unknown`: what the last observations said, shown beside their age; else = status. */
  lastStatus: Exclude<StakingStatus, 'unknown'> | null;
  /** Age (control-plane ms) of the newest observation the view rests on; null: never observed. */
  ageMs: number | null;
  /** The P-chain time the figures are as of. */
  pchainTime: number | null;
  registered: boolean | null;
  stake: StakeWindow | null;
  requirement: number | null;
  uptime: number | null;
  uptimeSource: 'peer' | 'self' | null;
  /** How many observations of the chosen source agree on the stake and measured its uptime. */
  observers: number;
  budget: DowntimeBudget | null;
  periodEnding: boolean;
  /** An L1 validator's balance and days of fee left (l1.ts evaluateL1Staking); absent or null otherwise. */
  l1?: L1Balance | null;
}

const UNOBSERVED: StakingView = {
  status: 'unknown',
  lastStatus: null,
  ageMs: null,
  pchainTime: null,
  registered: null,
  stake: null,
  requirement: null,
  uptime: null,
  uptimeSource: null,
  observers: 0,
  budget: null,
  periodEnding: false,
};

/**
 * Snowline's view of one validator from what nodes reported. Peers' measurements are preferred to
 * the validator's own (rewards are decided by the other validators' votes, and its own view counts
 * itself as up); of several, the median downtime (the larger middle one of an even count). Only
 * observations newer than `staleAfterMs` count; with none, the view is `unknown`, with the age of
 * the newest and what it said — never the last value as if it were current.
 */
export function evaluateStaking(
  network: Network,
  observations: readonly StakingObservation[],
  now: number,
  s: StakingSettings,
  rules = STAKING_RULES,
): StakingView {
  if (!observations.length) return UNOBSERVED;
  const newest = Math.max(...observations.map((o) => o.observedAt));
  const fresh = observations.filter((o) => now - o.observedAt <= s.staleAfterMs);
  const view = judge(network, fresh.length ? fresh : observations, s, rules);
  const ageMs = Math.max(0, now - newest);
  if (fresh.length) return { ...view, ageMs };
  return { ...view, status: 'unknown', ageMs };
}

function judge(
  network: Network,
  obs: readonly StakingObservation[],
  s: StakingSettings,
  rules: typeof STAKING_RULES,
): Omit<StakingView, 'ageMs'> {
  const registered = obs.filter((o) => o.registered && o.stake);
  if (!registered.length) {
    const pchainTime = Math.max(...obs.map((o) => o.pchainTime));
    return {
      ...UNOBSERVED,
      status: 'not_registered',
      lastStatus: 'not_registered',
      pchainTime,
      registered: false,
    };
  }
  // The stake the latest P-chain says (a renewed or new period supersedes the old one).
  const latest = [...registered].sort(
    (a, b) => b.pchainTime - a.pchainTime || rank(a.kind) - rank(b.kind),
  )[0]!;
  const stake = latest.stake!;
  const same = registered.filter(
    (o) => o.stake!.txId === stake.txId && o.stake!.startMs === stake.startMs,
  );
  const measured = same.filter((o) => o.uptime !== null);
  const peers = measured.filter((o) => o.kind === 'peer');
  const source = peers.length ? peers : measured;
  const requirement = uptimeRequirement(network, stake.startMs, rules);
  const periodEnding = (at: number) =>
    stake.endMs - at <= Math.min(s.periodEndingMs, (stake.endMs - stake.startMs) / 4);
  if (!source.length) {
    return {
      ...UNOBSERVED,
      status: 'registered',
      lastStatus: 'registered',
      pchainTime: latest.pchainTime,
      registered: true,
      stake,
      requirement,
      periodEnding: periodEnding(latest.pchainTime),
    };
  }
  const judged = source
    .map((o) => ({
      o,
      b: downtimeBudget({ ...stake, requirement, uptime: o.uptime!, atMs: o.pchainTime }),
    }))
    .sort((a, b) => a.b.downtimeMs - b.b.downtimeMs || a.o.pchainTime - b.o.pchainTime);
  const mid = judged[Math.floor(judged.length / 2)]!;
  const status: StakingStatus = mid.b.lost
    ? 'lost'
    : mid.b.budgetLeftMs < s.atRiskFraction * mid.b.budgetMs
      ? 'at_risk'
      : 'ok';
  return {
    status,
    lastStatus: status,
    pchainTime: mid.o.pchainTime,
    registered: true,
    stake,
    requirement,
    uptime: mid.o.uptime,
    uptimeSource: mid.o.kind,
    observers: source.length,
    budget: mid.b,
    periodEnding: periodEnding(mid.o.pchainTime),
  };
}

const rank = (k: StakingObservation['kind']) => (k === 'peer' ? 0 : 1);

// ---- Events, once per condition -----------------------------------------------------------------

export const STAKING_EVENT_TYPES = [
  'staking.registered',
  'staking.uptime_at_risk',
  'staking.reward_lost',
  'staking.period_ending',
] as const;
export type StakingEventType = (typeof STAKING_EVENT_TYPES)[number];

/** Which events were raised for which validation period (txId@start), so each is raised once. */
export interface StakingConditions {
  periodKey: string | null;
  raised: (StakingEventType | L1EventType)[];
}

export const periodKey = (stake: StakeWindow): string => `${stake.txId}@${stake.startMs}`;

/**
 * The events a new view raises: each condition once per validation period, never again on the next
 * sweep; a new period (another txId or start time) arms them all again. An `unknown` view raises
 * nothing: stale news is not news.
 */
export function stakingEvents(
  prev: StakingConditions,
  view: StakingView,
): { events: StakingEventType[]; next: StakingConditions } {
  if (view.status === 'unknown' || !view.registered || !view.stake)
    return { events: [], next: prev };
  const key = periodKey(view.stake);
  const raised = new Set(key === prev.periodKey ? prev.raised : []);
  const events: StakingEventType[] = [];
  const raise = (t: StakingEventType, when: boolean) => {
    if (when && !raised.has(t)) {
      raised.add(t);
      events.push(t);
    }
  };
  raise('staking.registered', true);
  raise('staking.uptime_at_risk', view.status === 'at_risk' || view.status === 'lost');
  raise('staking.reward_lost', view.status === 'lost');
  raise('staking.period_ending', view.periodEnding);
  return {
    events,
    next: { periodKey: key, raised: STAKING_EVENT_TYPES.filter((t) => raised.has(t)) },
  };
}

// ---- Who looks at whom --------------------------------------------------------------------------

/** A healthy, synced Snowline node that can look validators up on its P-chain. */
export interface StakingObserver {
  hostId: string;
  zone: string;
  network: Network;
  role: 'standby' | 'assigned';
}

/** A validator whose staking Snowline tracks: its NodeID, and where its node runs now. */
export interface StakingSubject {
  nodeId: string;
  network: Network;
  zone: string | null;
  hostId: string | null;
}

/**
 * Which NodeIDs each observer looks up in its next staking report: `perSubject` observers for each
 * validator, on its network, never its own host; in other zones first (what survives its zone going
 * dark), standbys before other validators' hosts, and within those by consistent hashing (a ring of
 * RING_POINTS hashed points per observer; a validator takes the next observers clockwise from
 * its NodeID's hash), so that the choice is stable from round to round, spread evenly, and one
 * observer joining or leaving moves only the validators next to its points. No observer gets more
 * than `maxPerObserver`; a full observer's points leave the ring.
 *
 * Cost: O((S + P) log P) for S validators and P ring points, so a 10,000-validator fleet with
 * 10,000 observers is assigned in tens of milliseconds. (The rendezvous ranking it replaces hashed
 * and sorted every observer for every validator — O(S · O log O): minutes of one worker's main
 * thread at that size, during which its sweeper could not run.)
 */
export function assignStakingObservers(
  subjects: readonly StakingSubject[],
  observers: readonly StakingObserver[],
  opts: { perSubject: number; maxPerObserver: number },
): Map<string, string[]> {
  const out = new Map<string, string[]>(observers.map((o) => [o.hostId, []]));
  if (opts.perSubject <= 0 || opts.maxPerObserver <= 0) return out;
  // One ring per network and role.
  const rings = new Map<string, ObserverRing>();
  for (const o of [...observers].sort((a, b) => (a.hostId < b.hostId ? -1 : 1))) {
    const key = `${o.network}|${o.role}`;
    let ring = rings.get(key);
    if (!ring) rings.set(key, (ring = new ObserverRing(RING_POINTS)));
    ring.add(o);
  }
  for (const ring of rings.values()) ring.seal();
  const sorted = [...subjects].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  for (const subject of sorted) {
    const taken = new Set<string>();
    const at = ringHash(subject.nodeId);
    for (const otherZone of [true, false]) {
      for (const role of ['standby', 'assigned'] as const) {
        if (taken.size >= opts.perSubject) break;
        const ring = rings.get(`${subject.network}|${role}`);
        ring?.take(at, opts.perSubject - taken.size, subject.zone, otherZone, (o) => {
          if (o.hostId === subject.hostId || taken.has(o.hostId)) return false;
          const list = out.get(o.hostId)!;
          list.push(subject.nodeId);
          taken.add(o.hostId);
          return list.length >= opts.maxPerObserver ? 'full' : true;
        });
      }
    }
  }
  return out;
}

/**
 * Points per observer on a ring: enough that each observer's share of the ring is within about a
 * quarter of the mean (the sum of 16 arcs), few enough that 10,000 observers sort in milliseconds.
 */
const RING_POINTS = 16;

/** Observers of one network and role on a hash ring (assignStakingObservers). */
class ObserverRing {
  private pts: { h: number; o: StakingObserver }[] = [];
  private readonly full = new Set<string>();
  /** Observers not yet full, by zone: a walk with none it could take is skipped. */
  private readonly open = new Map<string, number>();
  private openTotal = 0;
  /** Points of full observers still on the ring. */
  private fullPoints = 0;

  constructor(private readonly perObserver: number) {}

  add(o: StakingObserver): void {
    for (let i = 0; i < this.perObserver; i++)
      this.pts.push({ h: ringHash(`${o.hostId}#${i}`), o });
    this.open.set(o.zone, (this.open.get(o.zone) ?? 0) + 1);
    this.openTotal++;
  }

  seal(): void {
    this.pts.sort((a, b) => a.h - b.h || (a.o.hostId < b.o.hostId ? -1 : 1));
  }

  /**
   * Walks clockwise from `at`, offering each distinct open observer outside (`otherZone`) or inside
   * `zone` to `offer` (true: taken; 'full': taken and now full; false: not taken) until `want` are
   * taken or the ring is walked once.
   */
  take(
    at: number,
    want: number,
    zone: string | null,
    otherZone: boolean,
    offer: (o: StakingObserver) => boolean | 'full',
  ): void {
    const inZone = zone === null ? 0 : (this.open.get(zone) ?? 0);
    if ((otherZone ? this.openTotal - inZone : inZone) <= 0) return;
    const n = this.pts.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pts[mid]!.h < at) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<string>();
    let got = 0;
    for (let k = 0; k < n && got < want; k++) {
      const { o } = this.pts[(lo + k) % n]!;
      if (this.full.has(o.hostId) || seen.has(o.hostId)) continue;
      seen.add(o.hostId);
      if ((o.zone === zone) === otherZone) continue;
      const r = offer(o);
      if (!r) continue;
      got++;
      if (r === 'full') {
        this.full.add(o.hostId);
        this.open.set(o.zone, this.open.get(o.zone)! - 1);
        this.openTotal--;
        this.fullPoints += this.perObserver;
      }
    }
    // Full observers' points leave once they are half the ring: walks stay short, O(P) amortised.
    if (this.fullPoints * 2 >= this.pts.length && this.fullPoints > 0) {
      this.pts = this.pts.filter((p) => !this.full.has(p.o.hostId));
      this.fullPoints = 0;
    }
  }
}

/**
 * A ring position: FNV-1a, then MurmurHash3's 32-bit finaliser — FNV-1a alone barely moves when
 * only the last character changes (`host#0`, `host#1`), which would bunch an observer's points.
 */
function ringHash(s: string): number {
  let h = fnv1a(s);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 32-bit FNV-1a: a cheap, stable string hash (not for security). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ---- Failover order -----------------------------------------------------------------------------

/** What the failover order knows of a validator's staking (its last evaluated view). */
export interface MoveUrgency {
  status: StakingStatus | null;
  /** The last known budget left (ms); null when none is known. */
  budgetLeftMs: number | null;
}

/**
 * Which validator moves first when standbys are scarce: least downtime budget left first (its
 * reward is closest to being lost), judged on the last known budget even when that view has gone
 * stale (every candidate is down alike); then those whose budget is unknown or not at stake; last,
 * those whose reward for this period is already lost (moving them first saves nothing this period).
 * 0 for a tie: the caller breaks it (by how long each has been unhealthy).
 */
export function compareMoveUrgency(a: MoveUrgency | undefined, b: MoveUrgency | undefined): number {
  const ga = urgencyGroup(a);
  const gb = urgencyGroup(b);
  if (ga !== gb) return ga - gb;
  if (ga === 0) return a!.budgetLeftMs! - b!.budgetLeftMs!;
  return 0;
}

function urgencyGroup(u: MoveUrgency | undefined): 0 | 1 | 2 {
  if (!u || u.budgetLeftMs === null) return 1;
  if (u.budgetLeftMs < 0 || u.status === 'lost') return 2;
  return 0;
}
