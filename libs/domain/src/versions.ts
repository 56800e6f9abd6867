/**
 * AvalancheGo versions and the network-upgrade calendar, pure: how versions order, which versions
 * run on which network, which activation comes next, and whether a version survives it. The worker's
 * deadline warnings, the API's validation, `snowline plan` and the simulator's nodes all call these.
 *
 * What AvalancheGo itself does (github.com/ava-labs/avalanchego, read at tag v1.15.0-fuji, e8f9781):
 * - upgrade/upgrade.go: each network upgrade has one activation time per network
 *   (`Fuji.HeliconTime = 2026-07-28 15:00 UTC`), `UnscheduledActivationTime` (9999-12-01) until it
 *   is scheduled; a release schedules it, so a binary older than that release does not know it.
 * - version/constants.go + version/compatibility.go: after `UpgradeTime` a node accepts only peers at
 *   `MinimumCompatibleVersion` or later (1.15.0 for Helicon); before it, `PrevMinimumCompatibleVersion`.
 * - network/peer/peer.go `shouldDisconnect`: incompatible peers are disconnected at the handshake and
 *   on every ping, so after activation an outdated node loses its peers, its `network` health check
 *   fails ("not connected to a minimum of N peer(s)", network/network.go `HealthCheck`) and it stops
 *   validating: the upgraded network no longer talks to it.
 * - config/config.go: a `-fuji` pre-release refuses to run mainnet ("mainnet is not supported").
 */
import { NETWORKS, type Network } from './validator-state';

export interface AvalancheGoVersion {
  major: number;
  minor: number;
  patch: number;
  /** `-fuji`: a pre-release that schedules an upgrade on Fuji only and refuses mainnet. */
  fuji: boolean;
  /** `-rc.N`: a release candidate (before the release of the same name). */
  rc: number | null;
}

/** `1.15.0`, `v1.15.0`, `1.15.0-fuji`, `1.15.0-rc.2`, `1.15.0-fuji-rc.4`; nothing else. */
export const VERSION_RE =
  /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})(-fuji)?(?:-rc\.(0|[1-9]\d{0,3}))?$/;

/** The version a string names, or null when it is not one (never a guess). */
export function parseVersion(text: string): AvalancheGoVersion | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    fuji: m[4] !== undefined,
    rc: m[5] === undefined ? null : Number(m[5]),
  };
}

export function formatVersion(v: AvalancheGoVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.fuji ? '-fuji' : ''}${v.rc === null ? '' : `-rc.${v.rc}`}`;
}

/**
 * The canonical spelling (no `v`, no spaces), or null. Versions are stored and compared as strings in
 * their canonical form only, so `1.15.0` and `v1.15.0` are one version everywhere (rollout included).
 */
export function canonicalVersion(text: string): string | null {
  const v = parseVersion(text);
  return v ? formatVersion(v) : null;
}

/**
 * What a node or agent reports (`avalanchego/1.15.0`, `v1.15.0`, `1.15.0`) as a canonical version;
 * null when absent or unreadable: an unreadable report is unknown, never the nearest version.
 */
export function reportedVersion(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null;
  return canonicalVersion(text.replace(/^avalanchego\//, ''));
}

/**
 * Orders versions: by major.minor.patch; within one, the Fuji pre-release before the release, and a
 * release candidate before its release (1.15.0-fuji-rc.4 < 1.15.0-fuji < 1.15.0-rc.1 < 1.15.0).
 */
export function compareVersions(a: AvalancheGoVersion, b: AvalancheGoVersion): -1 | 0 | 1 {
  const key = (v: AvalancheGoVersion) => [
    v.major,
    v.minor,
    v.patch,
    v.fuji ? 0 : 1,
    v.rc === null ? Number.MAX_SAFE_INTEGER : v.rc,
  ];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i]! < kb[i]!) return -1;
    if (ka[i]! > kb[i]!) return 1;
  }
  return 0;
}

/** compareVersions on strings; throws on a string that is not a version (a caller's bug). */
export function compareVersionStrings(a: string, b: string): -1 | 0 | 1 {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) throw new RangeError(`not an AvalancheGo version: ${pa ? b : a}`);
  return compareVersions(pa, pb);
}

/** Why a version cannot run on a network, or null when it can. */
export function versionRefusal(version: string, network: Network): string | null {
  const v = parseVersion(version);
  if (!v) return `"${version}" is not an AvalancheGo version (like 1.15.0 or 1.15.0-fuji)`;
  // config/config.go (v1.15.0-fuji): `if nodeConfig.NetworkID == constants.MainnetID` → error.
  if (v.fuji && network === 'mainnet')
    return `${formatVersion(v)} is a Fuji pre-release: it refuses to run mainnet ("mainnet is not supported")`;
  return null;
}

/** One scheduled network upgrade of one network: from `activatesAt`, nodes need `minVersion`. */
export interface NetworkUpgrade {
  network: Network;
  /** The upgrade's name (Granite, Helicon …). */
  name: string;
  /** Epoch ms (UTC). */
  activatesAt: number;
  /** The first release that schedules the activation (canonical). */
  minVersion: string;
  /** Where the date and version were published. */
  source: string;
}

/** A stable key of one activation: a rescheduled date is another activation (and warns again). */
export function activationKey(u: Pick<NetworkUpgrade, 'network' | 'name' | 'activatesAt'>) {
  return `${u.network}/${u.name}/${new Date(u.activatesAt).toISOString()}`;
}

/** The network's next activation strictly after `now` (the earliest one), or null when none. */
export function nextActivation(
  calendar: readonly NetworkUpgrade[],
  network: Network,
  now: number,
): NetworkUpgrade | null {
  let next: NetworkUpgrade | null = null;
  for (const u of calendar)
    if (u.network === network && u.activatesAt > now && (!next || u.activatesAt < next.activatesAt))
      next = u;
  return next;
}

export type Survival = 'survives' | 'outdated' | 'unknown';

/**
 * Whether a node running `version` keeps validating past `upgrade`: it must run on the network and
 * be at least the release that scheduled it. Unknown (null, or unreadable) stays unknown.
 */
export function survives(version: string | null, upgrade: NetworkUpgrade): Survival {
  if (version === null) return 'unknown';
  const v = parseVersion(version);
  const min = parseVersion(upgrade.minVersion);
  if (!v || !min) return 'unknown';
  if (versionRefusal(version, upgrade.network)) return 'outdated';
  return compareVersions(v, min) >= 0 ? 'survives' : 'outdated';
}

/**
 * The activation that has already passed and that `version` does not survive (the latest such), or
 * null: a node for which this is not null has stopped validating (see the header). The simulator's
 * nodes follow this; unknown is never outdated.
 */
export function missedActivation(
  calendar: readonly NetworkUpgrade[],
  network: Network,
  version: string | null,
  now: number,
): NetworkUpgrade | null {
  let missed: NetworkUpgrade | null = null;
  for (const u of calendar) {
    if (u.network !== network || u.activatesAt > now) continue;
    if (survives(version, u) === 'outdated' && (!missed || u.activatesAt > missed.activatesAt))
      missed = u;
  }
  return missed;
}

export interface VersionFacts {
  network: Network;
  /** The version the validator's spec asks for (canonical). */
  desiredVersion: string;
  /** What its host reports running; null = unknown (no host, no report, an agent too old to say). */
  runningVersion: string | null;
}

export type UpgradeVerdict =
  /** No activation ahead within the warning window. */
  | { kind: 'none' }
  | { kind: 'survives'; upgrade: NetworkUpgrade }
  /** The spec survives, but what runs is not known: never warned about as if it failed. */
  | { kind: 'unknown'; upgrade: NetworkUpgrade }
  | {
      kind: 'upgrade_required';
      upgrade: NetworkUpgrade;
      /** `spec`: the spec names an outdated version; `running`: the spec is fine, the host lags. */
      cause: 'spec' | 'running';
      message: string;
    };

const utc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Whether a validator must be upgraded before its network's next activation, if that activation is
 * within `windowMs` of `now`: its spec's version first (no rollout can save a spec that names an
 * outdated version), then what its host runs.
 */
export function judgeUpgrade(
  v: VersionFacts,
  calendar: readonly NetworkUpgrade[],
  now: number,
  windowMs: number,
): UpgradeVerdict {
  const upgrade = nextActivation(calendar, v.network, now);
  if (!upgrade || upgrade.activatesAt - now > windowMs) return { kind: 'none' };
  const deadline = `${upgrade.name} activates on ${v.network} at ${utc(upgrade.activatesAt)} and needs ${upgrade.minVersion} or later`;
  if (survives(v.desiredVersion, upgrade) !== 'survives')
    return {
      kind: 'upgrade_required',
      upgrade,
      cause: 'spec',
      message: `${deadline}; the spec names ${v.desiredVersion}: set version to ${upgrade.minVersion} or later before then`,
    };
  const running = survives(v.runningVersion, upgrade);
  if (running === 'unknown') return { kind: 'unknown', upgrade };
  if (running === 'outdated')
    return {
      kind: 'upgrade_required',
      upgrade,
      cause: 'running',
      message: `${deadline}; its host runs ${v.runningVersion} (the spec asks for ${v.desiredVersion}): it must move onto ${v.desiredVersion} before then`,
    };
  return { kind: 'survives', upgrade };
}

/** Upgrade policies a spec may name: `manual` (default) or `before-deadline` (rolled by Snowline). */
export const UPGRADE_POLICIES = ['manual', 'before-deadline'] as const;
export type UpgradePolicy = (typeof UPGRADE_POLICIES)[number];

export const isUpgradePolicy = (s: unknown): s is UpgradePolicy =>
  typeof s === 'string' && (UPGRADE_POLICIES as readonly string[]).includes(s);

/**
 * Parses one calendar entry, `network/Name/2026-07-28T15:00:00Z/1.15.0-fuji` (the NETWORK_UPGRADES
 * setting's form); throws a message that says what to fix.
 */
export function parseUpgradeEntry(text: string, source: string): NetworkUpgrade {
  const parts = text.trim().split('/');
  if (parts.length !== 4)
    throw new RangeError(
      `"${text}" must look like network/Name/2026-07-28T15:00:00Z/1.15.0 (four parts, /-separated)`,
    );
  const [network, name, at, version] = parts as [string, string, string, string];
  if (!(NETWORKS as readonly string[]).includes(network))
    throw new RangeError(`"${text}": network must be one of ${NETWORKS.join(', ')}`);
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(name))
    throw new RangeError(`"${text}": the name must be a word (letters, digits, -)`);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/.test(at))
    throw new RangeError(
      `"${text}": the time must be ISO 8601 with a zone, e.g. 2026-07-28T15:00:00Z`,
    );
  const activatesAt = Date.parse(at);
  if (!Number.isFinite(activatesAt)) throw new RangeError(`"${text}": ${at} is not a time`);
  const minVersion = canonicalVersion(version);
  if (!minVersion)
    throw new RangeError(`"${text}": ${version} is not an AvalancheGo version (like 1.15.0)`);
  return { network: network as Network, name, activatesAt, minVersion, source };
}

/**
 * The seeded calendar with the configured entries laid over it: an entry of the same network and
 * name replaces the seeded one (a rescheduled date), others are added. Sorted by time.
 */
export function mergeCalendar(
  seeded: readonly NetworkUpgrade[],
  configured: readonly NetworkUpgrade[],
): NetworkUpgrade[] {
  const byKey = new Map<string, NetworkUpgrade>();
  for (const u of [...seeded, ...configured]) byKey.set(`${u.network}/${u.name}`, u);
  return [...byKey.values()].sort(
    (a, b) => a.activatesAt - b.activatesAt || a.network.localeCompare(b.network),
  );
}
