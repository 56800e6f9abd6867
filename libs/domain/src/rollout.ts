/**
 * The rolling upgrade's rule, pure: which validators move now, onto which upgraded standby. A rollout
 * never restarts a node in place: each validator moves onto a synced standby that already runs its
 * desired version, through a planned move (the old agent stops its node and acknowledges; the keys
 * move on that acknowledgment, or on the lease as a fallback: `canGrantKeys`). A version no validator
 * of the network runs yet goes first to one validator alone (the canary); once one runs it, at most
 * `maxInFlightPerZone` planned moves leave one zone at once. A target version whose move rolled back
 * is halted: nothing more moves onto it until someone resumes it.
 */
import type { Network, ValidatorState } from './validator-state';
import { compareVersionStrings, nextActivation, survives, type NetworkUpgrade } from './versions';

export interface RolloutValidator {
  id: string;
  /** The zone it runs in now (null: it has no host). */
  zone: string | null;
  state: ValidatorState;
  /** The version its spec asks for. */
  desiredVersion: string;
  /** The version its host reports running; null = unknown (an agent too old to say). */
  runningVersion: string | null;
  /** A move of its identity is in flight (any kind). */
  moving: boolean;
  /** Zones it may use (empty = any). */
  allowedZones: readonly string[];
  /** The L1 it validates (null or absent: the primary network): it moves only onto a node tracking it. */
  subnetId?: string | null;
}

export interface RolloutStandby {
  id: string;
  zone: string;
  /** The version it runs (null = unknown: never a target). */
  version: string | null;
  /** Healthy, bootstrapped, unfenced: ready to take an identity at once. */
  synced: boolean;
  /** The L1 its node tracks (`track-subnets`); null or absent: none. */
  subnetId?: string | null;
}

export interface RolloutInput {
  validators: readonly RolloutValidator[];
  standbys: readonly RolloutStandby[];
  /** Planned moves (upgrade, rollback) already in flight, by the zone they leave. */
  inFlightByZone: Readonly<Record<string, number>>;
  /** Target versions whose rollout halted after a rollback. */
  halted: readonly string[];
  /** Zones closed to placement (impaired, dark). */
  blockedZones: readonly string[];
  maxInFlightPerZone: number;
}

export interface RolloutMove {
  validatorId: string;
  standbyId: string;
  fromZone: string;
  toZone: string;
  fromVersion: string | null;
  toVersion: string;
}

export interface RolloutWait {
  validatorId: string;
  version: string;
  reason: string;
}

export interface RolloutPlan {
  moves: RolloutMove[];
  /** Validators that need a move but cannot have one now, with why (shown in plans and status). */
  waiting: RolloutWait[];
}

/** Whether a validator runs what its spec asks for; unknown is not "yes". */
export function needsUpgrade(v: Pick<RolloutValidator, 'desiredVersion' | 'runningVersion'>) {
  return v.runningVersion !== v.desiredVersion;
}

/** Only a validator that is validating moves in a rollout; one being moved or repaired waits. */
const MOVABLE: readonly ValidatorState[] = ['active'];

export function planRollout(input: RolloutInput): RolloutPlan {
  if (!Number.isInteger(input.maxInFlightPerZone) || input.maxInFlightPerZone < 0)
    throw new RangeError(
      `maxInFlightPerZone must be an integer ≥ 0, got ${input.maxInFlightPerZone}`,
    );
  const inFlight = new Map(Object.entries(input.inFlightByZone));
  const blocked = new Set(input.blockedZones);
  const halted = new Set(input.halted);
  const free = input.standbys.filter((s) => s.synced && s.version !== null && !blocked.has(s.zone));
  const taken = new Set<string>();
  // The canary: per target version, whether a validator is up on it (active, no move under way: a
  // moved validator's new host reports the version before its node comes up), and moves under way.
  const proven = new Set(
    input.validators
      .filter((v) => v.state === 'active' && !v.moving && v.runningVersion !== null)
      .map((v) => v.runningVersion!),
  );
  const toVersion = new Map<string, number>();
  for (const v of input.validators)
    if (v.moving) toVersion.set(v.desiredVersion, (toVersion.get(v.desiredVersion) ?? 0) + 1);
  const moves: RolloutMove[] = [];
  const waiting: RolloutWait[] = [];
  const wait = (v: RolloutValidator, reason: string) =>
    waiting.push({ validatorId: v.id, version: v.desiredVersion, reason });

  for (const v of [...input.validators].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (!needsUpgrade(v)) continue;
    if (halted.has(v.desiredVersion)) {
      wait(v, `the rollout to ${v.desiredVersion} halted after a rollback`);
      continue;
    }
    if (v.moving || !MOVABLE.includes(v.state) || v.zone === null) {
      wait(v, v.moving ? 'a move is already in flight' : `it is ${v.state}, not active`);
      continue;
    }
    if (!proven.has(v.desiredVersion) && (toVersion.get(v.desiredVersion) ?? 0) >= 1) {
      wait(v, `waiting for the first validator on ${v.desiredVersion} (the canary) to come up`);
      continue;
    }
    if ((inFlight.get(v.zone) ?? 0) >= input.maxInFlightPerZone) {
      wait(v, `${input.maxInFlightPerZone} planned move(s) already leaving ${v.zone}`);
      continue;
    }
    const allowed = (z: string) => v.allowedZones.length === 0 || v.allowedZones.includes(z);
    const fits = free.filter(
      (s) =>
        !taken.has(s.id) &&
        s.version === v.desiredVersion &&
        (s.subnetId ?? null) === (v.subnetId ?? null) &&
        allowed(s.zone),
    );
    // The same zone first: a rollout should not reshuffle the fleet across zones.
    const pick = fits.find((s) => s.zone === v.zone) ?? fits[0];
    if (!pick) {
      wait(
        v,
        `no synced standby runs ${v.desiredVersion}${v.subnetId ? ` tracking L1 ${v.subnetId}` : ''} yet`,
      );
      continue;
    }
    taken.add(pick.id);
    inFlight.set(v.zone, (inFlight.get(v.zone) ?? 0) + 1);
    toVersion.set(v.desiredVersion, (toVersion.get(v.desiredVersion) ?? 0) + 1);
    moves.push({
      validatorId: v.id,
      standbyId: pick.id,
      fromZone: v.zone,
      toZone: pick.zone,
      fromVersion: v.runningVersion,
      toVersion: v.desiredVersion,
    });
  }
  return { moves, waiting };
}

/**
 * How many standbys of each version a zone's pool should hold: the pool's per-zone target for every
 * version a validator of the network runs or asks for, so a failover never silently changes a
 * validator's version and a rollout finds upgraded standbys. Versions nobody runs or asks for get 0
 * (their standbys are surplus). Unknown running versions ask for nothing.
 */
export function standbyVersionTargets(
  validators: readonly Pick<RolloutValidator, 'desiredVersion' | 'runningVersion'>[],
  perZoneTarget: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of validators) {
    out.set(v.desiredVersion, perZoneTarget);
    if (v.runningVersion !== null) out.set(v.runningVersion, perZoneTarget);
  }
  return out;
}

/** A daily UTC window (`02:00-06:00`; one that ends before it starts runs past midnight). */
export interface UtcWindow {
  startMinute: number;
  endMinute: number;
}

/** Parses `HH:MM-HH:MM` (UTC); null for an empty string (any time). Throws on anything else. */
export function parseUtcWindow(text: string): UtcWindow | null {
  if (!text.trim()) return null;
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" must look like 02:00-06:00 (UTC, HH:MM-HH:MM)`);
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const endMinute = Number(m[3]) * 60 + Number(m[4]);
  if (startMinute === endMinute) throw new Error(`"${text}" is an empty window`);
  return { startMinute, endMinute };
}

export function inUtcWindow(w: UtcWindow | null, now: number): boolean {
  if (!w) return true;
  const d = new Date(now);
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
  return w.startMinute < w.endMinute
    ? minute >= w.startMinute && minute < w.endMinute
    : minute >= w.startMinute || minute < w.endMinute;
}

export interface AutoUpgradeInput {
  policy: 'manual' | 'before-deadline';
  network: Network;
  /** The spec's version. */
  desiredVersion: string;
  calendar: readonly NetworkUpgrade[];
  /** Pinned releases hosts may run (AVALANCHEGO_RELEASES' versions). */
  releases: readonly string[];
  /** The network's fleet default: the preferred target when it survives. */
  defaultVersion: string | null;
  /** Act this long before the activation at the latest (UPGRADE_AUTO_DAYS). */
  leadMs: number;
  window: UtcWindow | null;
  now: number;
}

export type AutoUpgradeVerdict =
  | { action: 'none' }
  | { action: 'upgrade'; to: string; upgrade: NetworkUpgrade; reason: string }
  /** Due, but no pinned release survives the activation: a person must pin one. */
  | { action: 'stuck'; upgrade: NetworkUpgrade; reason: string };

/**
 * The `upgrade: before-deadline` policy, pure: within `leadMs` of its network's next activation, a
 * validator whose spec's version will not survive it is given one that will — the fleet default when
 * it survives, else the lowest pinned release that does — inside the daily window; the rollout then
 * moves it like any other. Manual validators are only warned (the deadline loop).
 */
export function judgeAutoUpgrade(i: AutoUpgradeInput): AutoUpgradeVerdict {
  if (i.policy !== 'before-deadline') return { action: 'none' };
  const next = nextActivation(i.calendar, i.network, i.now);
  if (!next || next.activatesAt - i.now > i.leadMs) return { action: 'none' };
  if (survives(i.desiredVersion, next) !== 'outdated') return { action: 'none' };
  if (!inUtcWindow(i.window, i.now)) return { action: 'none' };
  const ok = (v: string) => survives(v, next) === 'survives';
  const candidates = i.releases.filter(ok).sort(compareVersionStrings);
  const to =
    i.defaultVersion && ok(i.defaultVersion) && i.releases.includes(i.defaultVersion)
      ? i.defaultVersion
      : candidates[0];
  const when = new Date(next.activatesAt).toISOString();
  if (!to)
    return {
      action: 'stuck',
      upgrade: next,
      reason: `${next.name} activates on ${i.network} at ${when} and needs ${next.minVersion}; no pinned release (AVALANCHEGO_RELEASES) survives it: pin one`,
    };
  return {
    action: 'upgrade',
    to,
    upgrade: next,
    reason: `upgrade: before-deadline: ${next.name} activates on ${i.network} at ${when} and needs ${next.minVersion}; ${i.desiredVersion} would stop validating`,
  };
}

/** A live validator as the standby pools see it. */
export interface PoolValidator {
  network: string;
  /** The L1 it validates; null: the primary network. */
  subnetId: string | null;
  desiredVersion: string;
  runningVersion: string | null;
}

/** One pool a network keeps in every open zone: standbys of these versions, tracking this L1. */
export interface StandbyPoolTarget {
  network: string;
  /** The L1 its standbys' nodes track (`track-subnets`); null: the primary network only. */
  subnetId: string | null;
  versions: string[];
}

/**
 * Which pools each network keeps (each at the network's per-zone size): one per L1 a live
 * validator of the network validates — its standbys' nodes already track that L1, so a failover
 * lands on a node with the L1's chains synced, never on one that would have to start — and the
 * primary network's when a validator validates it or none validates anything yet. Each pool holds
 * the versions its own validators run or ask for (standbyVersionTargets), else `defaultVersion`.
 */
export function standbyPoolTargets(
  networks: readonly string[],
  validators: readonly PoolValidator[],
  defaultVersion: (network: string) => string | null,
): StandbyPoolTarget[] {
  const out: StandbyPoolTarget[] = [];
  for (const network of networks) {
    const mine = validators.filter((v) => v.network === network);
    const subnets = [...new Set(mine.map((v) => v.subnetId))];
    if (!subnets.length) subnets.push(null);
    for (const subnetId of subnets.sort((a, b) => (a ?? '').localeCompare(b ?? ''))) {
      const versions = [
        ...standbyVersionTargets(
          mine.filter((v) => v.subnetId === subnetId),
          1,
        ).keys(),
      ];
      const fallback = defaultVersion(network);
      if (!versions.length && fallback) versions.push(fallback);
      out.push({ network, subnetId, versions });
    }
  }
  return out;
}
