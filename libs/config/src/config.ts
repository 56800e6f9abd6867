import {
  canonicalVersion,
  mergeCalendar,
  NETWORKS,
  parseUpgradeEntry,
  parseUtcWindow,
  versionRefusal,
  type Network,
  type NetworkUpgrade,
  type UtcWindow,
} from '@snowline/domain';
import { PUBLISHED_NETWORK_UPGRADES } from './network-upgrades';
import { envSchema, type Env } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  api: { host: string; port: number };
  dataDir: string;
  adminKey?: string;
  masterKey?: Buffer;
  cloud: {
    provider: Env['CLOUD_PROVIDER'];
    region: string;
    zones: string[];
    vswitches: Record<string, string>;
    securityGroupId: string;
    imageId: string;
    endpoint: string;
    protocol: 'http' | 'https';
    accessKeyId: string;
    accessKeySecret: string;
    timeoutMs: number;
    defaultInstanceType: string;
  };
  sim: {
    host: string;
    port: number;
    accessKeyId: string;
    accessKeySecret: string;
    timeScale: number;
    bootstrapSeconds: number;
    rateLimits: boolean;
    /** Versions whose simulated nodes never bootstrap (a bad build). */
    brokenReleases: string[];
  };
  agent: {
    controlPlaneUrl: string;
    leaseTtlSeconds: number;
    renewSeconds: number;
    skewMarginSeconds: number;
    /** SIGTERM this long before the lease ends on the agent's clock, SIGKILL at its end. */
    stopBudgetSeconds: number;
    bootstrapTokenTtlSeconds: number;
    signatureWindowSeconds: number;
    /** Epoch ms after which protocol-1 hosts are refused; null: accepted until those hosts are gone. */
    protocol1UntilMs: number | null;
    /** PEM file of the certificate that signs instance identity documents (null: the simulator's, or none). */
    identityCertFile: string | null;
  };
  /** Launch batches (issue 20 point 4): validators requested together share RunInstances calls. */
  launch: {
    /** Instances per RunInstances (≤ 100, ECS's Amount limit); 1 launches one by one. */
    batchMax: number;
    /** How long a provision job waits for validators requested with it before gathering them. */
    batchWaitMs: number;
    /**
     * How long at most a burst's first launch keeps waiting (in rounds of batchWaitMs) while the
     * burst's identities are still being generated, unless a full call per zone is ready sooner.
     */
    batchMaxWaitMs: number;
  };
  reconcileIntervalSeconds: number;
  leaderLeaseSeconds: number;
  dbStuckSessionSeconds: number;
  /** Seconds between refreshes of the region's instance-type catalog. */
  catalogRefreshSeconds: number;
  /** Days kept before the retention loop deletes: events and finished deliveries; deleted hosts. */
  retention: { eventsDays: number; hostHistoryDays: number };
  health: {
    sweepIntervalSeconds: number;
    hostStartupTimeoutSeconds: number;
    zoneUnhealthyThreshold: number;
    zoneMinHosts: number;
    zoneRecoverySweeps: number;
  };
  failover: {
    graceSeconds: number;
    maxConcurrent: number;
    ratePerMinute: number;
    maxUnhealthyPercent: number;
    dailyBudget: number;
    deadlineSeconds: number;
    maxAttempts: number;
  };
  /** Warm standbys per zone, by network. */
  standbyPool: Record<string, number>;
  /** The staking view (issue 22): agents' reports and the worker's evaluation. */
  staking: {
    /** Agents report every this many seconds. */
    reportSeconds: number;
    /** A view older than this is unknown (three reports). */
    staleAfterSeconds: number;
    /** The worker evaluates every this many seconds (a report interval, at most 15 s). */
    evaluateSeconds: number;
    /** At risk below this fraction (0–1) of the downtime budget left. */
    atRiskFraction: number;
    periodEndingHours: number;
    observersPerValidator: number;
    /** An L1 validator's balance is low below this many days of fee (`l1.balance_low`). */
    l1BalanceLowDays: number;
  };

  publicApi: {
    bodyLimitKb: number;
    rateLimitRps: number;
    rateLimitBurst: number;
    idempotencyTtlHours: number;
    eventsPollMs: number;
    sseHeartbeatSeconds: number;
    sseMaxStreamsPerKey: number;
    agentAuthFailuresPerMinute: number;
  };
  webhooks: {
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    /** Allow targets on loopback/private/link-local/reserved addresses; false unless set, in every NODE_ENV. */
    allowPrivateTargets: boolean;
  };
  metrics: {
    /** Per-validator series (state, staking budget and uptime); off by default (cardinality). */
    perValidator: boolean;
  };
  /** AvalancheGo versions, how they reach a host, and the network-upgrade calendar. */
  avalanchego: {
    /** The version a spec that names none gets, per network (canonical). */
    defaultVersion: Record<Network, string>;
    /** version (canonical) → the release a host downloads and checks before running it. */
    releases: Record<string, AvalancheGoRelease>;
    /** Published activations plus NETWORK_UPGRADES, in time order. */
    calendar: NetworkUpgrade[];
    warningDays: number;
    checkIntervalSeconds: number;
    /** Rolling upgrades: planned moves leaving one zone at once (0 pauses every rollout). */
    maxInFlightPerZone: number;
    /** How long a planned move's new node has to be healthy and validating before it rolls back. */
    moveDeadlineSeconds: number;
    /** `upgrade: before-deadline`: act this many days before the activation. */
    autoDays: number;
    /** ... inside this daily UTC window (null: any time). */
    window: UtcWindow | null;
  };
}

/** One pinned AvalancheGo release: where a host downloads it, and the SHA-256 it must have. */
export interface AvalancheGoRelease {
  version: string;
  url: string;
  sha256: string;
}

/**
 * The simulator's artifacts (`GET /_sim/releases/avalanchego-<version>.tar.gz` serves
 * `snowline-sim avalanchego <version>\n`); the hashes are of those bytes (checked by a test).
 */
export const SIM_RELEASES =
  '1.14.0=c77ec8e8e076258a508827d5360e6d69314e2e04699c9b4d13308834a986f431,' +
  '1.14.2=9bbe3d9c375a26f9a4f0e2b1a9a8ef4ef4b6e4b46fe3ae752f3655bf2902962c,' +
  '1.15.0-fuji=2671488a1f99289f9ac95ad5c12077aaa5a1806a35e30ebb795cfaa32c8576a0,' +
  '1.15.0=2dde5b4c66d6e09f530397acb5d58cc242f8c26cef1eaca48e85634c189f5676,' +
  '1.15.1=a7a76fb1705158f57639d664cc9c04ea7ed82f52ddc363a475ae4253c2a1bbe7,' +
  '1.15.2=5c2b5642582ccf177f35fd3a6e33aa73c00aab9cd2ebc6f8310615cecba39343,' +
  '1.15.3=9dde39fced987b6da129a35c722ca132e4862b0d37089cd47d93cd5fda6636f7';

/** Ava Labs publishes each release as a tarball on GitHub. */
export const GITHUB_RELEASE_URL =
  'https://github.com/ava-labs/avalanchego/releases/download/v{version}/avalanchego-linux-amd64-v{version}.tar.gz';

const split = (raw: string) =>
  raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function utcWindow(text: string, problems: string[]): UtcWindow | null {
  try {
    return parseUtcWindow(text);
  } catch (err) {
    problems.push(`UPGRADE_WINDOW_UTC: ${(err as Error).message}`);
    return null;
  }
}

function parseAvalancheGo(e: Env, problems: string[]): AppConfig['avalanchego'] {
  const urlTemplate =
    e.AVALANCHEGO_RELEASE_URL ??
    (e.CLOUD_PROVIDER === 'sim'
      ? `http://${e.ECS_SIM_HOST}:${e.ECS_SIM_PORT}/_sim/releases/avalanchego-{version}.tar.gz`
      : GITHUB_RELEASE_URL);
  const rawReleases = e.AVALANCHEGO_RELEASES ?? (e.CLOUD_PROVIDER === 'sim' ? SIM_RELEASES : '');
  const releases: Record<string, AvalancheGoRelease> = {};
  if (!rawReleases && e.CLOUD_PROVIDER === 'alibaba')
    problems.push(
      'AVALANCHEGO_RELEASES: required when CLOUD_PROVIDER=alibaba: version=sha256 of each release tarball a host may run (e.g. 1.15.3=<64 hex>)',
    );
  for (const entry of split(rawReleases)) {
    const m = /^([^=\s]+)=([0-9a-fA-F]{64})(?:@(https?:\/\/\S+))?$/.exec(entry);
    const version = m ? canonicalVersion(m[1]!) : null;
    if (!m || !version) {
      problems.push(
        `AVALANCHEGO_RELEASES: "${entry}" must look like 1.15.3=<sha256, 64 hex>[@https://…] with an AvalancheGo version`,
      );
      continue;
    }
    if (releases[version]) problems.push(`AVALANCHEGO_RELEASES: ${version} is listed twice`);
    releases[version] = {
      version,
      sha256: m[2]!.toLowerCase(),
      url: m[3] ?? urlTemplate.replaceAll('{version}', version),
    };
  }
  const defaults = {} as Record<Network, string>;
  const given = split(e.AVALANCHEGO_VERSION);
  const perNetwork = given.some((g) => g.includes('='));
  for (const g of given) {
    const [network, version] = perNetwork ? g.split('=') : [null, g];
    const v = version ? canonicalVersion(version) : null;
    if (!v || (network !== null && !(NETWORKS as readonly string[]).includes(network!))) {
      problems.push(
        `AVALANCHEGO_VERSION: "${g}" must be a version (1.15.3) or network=version (fuji=1.15.3), networks ${NETWORKS.join(', ')}`,
      );
      continue;
    }
    for (const n of network === null ? NETWORKS : [network as Network]) defaults[n] = v;
  }
  for (const n of NETWORKS) {
    const v = defaults[n];
    if (!v) {
      if (perNetwork)
        problems.push(`AVALANCHEGO_VERSION: no version for ${n} (add ${n}=<version>)`);
      continue;
    }
    const refusal = versionRefusal(v, n);
    if (refusal) problems.push(`AVALANCHEGO_VERSION: ${n}: ${refusal}`);
    else if (Object.keys(releases).length && !releases[v])
      problems.push(
        `AVALANCHEGO_VERSION: ${v} (${n}) has no entry in AVALANCHEGO_RELEASES (known: ${Object.keys(releases).join(', ')})`,
      );
  }
  const configured: NetworkUpgrade[] = [];
  for (const entry of split(e.NETWORK_UPGRADES)) {
    try {
      configured.push(parseUpgradeEntry(entry, 'NETWORK_UPGRADES'));
    } catch (err) {
      problems.push(`NETWORK_UPGRADES: ${(err as Error).message}`);
    }
  }
  return {
    defaultVersion: defaults,
    releases,
    calendar: mergeCalendar(PUBLISHED_NETWORK_UPGRADES, configured),
    warningDays: e.UPGRADE_WARNING_DAYS,
    checkIntervalSeconds: e.UPGRADE_CHECK_INTERVAL_SECONDS,
    maxInFlightPerZone: e.UPGRADE_MAX_IN_FLIGHT_PER_ZONE,
    moveDeadlineSeconds: e.UPGRADE_MOVE_DEADLINE_SECONDS,
    autoDays: e.UPGRADE_AUTO_DAYS,
    window: utcWindow(e.UPGRADE_WINDOW_UTC, problems),
  };
}

function parseVswitches(
  raw: string | undefined,
  zones: string[],
  provider: string,
): Record<string, string> {
  if (!raw) {
    // The simulator names its vSwitches after the zone's last letter (vsw-sim-b …).
    if (provider === 'sim')
      return Object.fromEntries(zones.map((z) => [z, `vsw-sim-${z.slice(-1)}`]));
    return {};
  }
  const out: Record<string, string> = {};
  for (const pair of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [zone, vsw] = pair.split('=').map((s) => s.trim());
    if (!zone || !vsw)
      throw new ConfigError([`ECS_VSWITCHES: "${pair}" must look like zone=vsw-id`]);
    out[zone] = vsw;
  }
  return out;
}

/** Parses the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const vswitches = parseVswitches(e.ECS_VSWITCHES, e.CLOUD_ZONES, e.CLOUD_PROVIDER);
  let accessKeyId = e.SIM_ACCESS_KEY_ID;
  let accessKeySecret = e.SIM_ACCESS_KEY_SECRET;
  let endpoint = e.ECS_ENDPOINT ?? `${e.ECS_SIM_HOST}:${e.ECS_SIM_PORT}`;
  let protocol: 'http' | 'https' = 'http';
  if (e.CLOUD_PROVIDER === 'alibaba') {
    if (!e.ALIBABA_CLOUD_ACCESS_KEY_ID)
      problems.push('ALIBABA_CLOUD_ACCESS_KEY_ID: required when CLOUD_PROVIDER=alibaba');
    if (!e.ALIBABA_CLOUD_ACCESS_KEY_SECRET)
      problems.push('ALIBABA_CLOUD_ACCESS_KEY_SECRET: required when CLOUD_PROVIDER=alibaba');
    for (const z of e.CLOUD_ZONES)
      if (!vswitches[z]) problems.push(`ECS_VSWITCHES: no vSwitch given for zone ${z}`);
    accessKeyId = e.ALIBABA_CLOUD_ACCESS_KEY_ID ?? '';
    accessKeySecret = e.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? '';
    endpoint = e.ECS_ENDPOINT ?? `ecs.${e.CLOUD_REGION}.aliyuncs.com`;
    protocol = 'https';
  }
  const standbyPool: Record<string, number> = {};
  for (const pair of e.STANDBY_POOL.split(',')
    .map((x) => x.trim())
    .filter((x) => x && x !== '0')) {
    const m = /^(fuji|mainnet|local)=(\d{1,3})$/.exec(pair);
    if (!m) problems.push(`STANDBY_POOL: "${pair}" must look like fuji=1 (network=count per zone)`);
    else standbyPool[m[1]!] = Number(m[2]);
  }
  const avalanchego = parseAvalancheGo(e, problems);
  const stopBudget = e.AGENT_STOP_BUDGET_SECONDS ?? Math.min(10, e.LEASE_TTL_SECONDS / 4);
  if (e.LEASE_RENEW_SECONDS >= e.LEASE_TTL_SECONDS)
    problems.push(
      `LEASE_RENEW_SECONDS: ${e.LEASE_RENEW_SECONDS} must be shorter than LEASE_TTL_SECONDS (${e.LEASE_TTL_SECONDS}), or every lease runs out between renewals`,
    );
  else if (stopBudget >= e.LEASE_TTL_SECONDS - e.LEASE_RENEW_SECONDS)
    problems.push(
      `AGENT_STOP_BUDGET_SECONDS: ${stopBudget} must be shorter than LEASE_TTL_SECONDS − LEASE_RENEW_SECONDS (${e.LEASE_TTL_SECONDS - e.LEASE_RENEW_SECONDS}), so that one missed renewal never stops a node`,
    );
  if (problems.length) throw new ConfigError(problems);
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    api: { host: e.API_HOST, port: e.API_PORT },
    dataDir: e.SNOWLINE_DATA_DIR,
    adminKey: e.SNOWLINE_ADMIN_KEY,
    masterKey: e.SNOWLINE_MASTER_KEY ? Buffer.from(e.SNOWLINE_MASTER_KEY, 'base64') : undefined,
    cloud: {
      provider: e.CLOUD_PROVIDER,
      region: e.CLOUD_REGION,
      zones: e.CLOUD_ZONES,
      vswitches,
      securityGroupId: e.ECS_SECURITY_GROUP_ID,
      imageId: e.ECS_IMAGE_ID,
      endpoint,
      protocol,
      accessKeyId,
      accessKeySecret,
      timeoutMs: e.ECS_TIMEOUT_MS,
      defaultInstanceType: e.DEFAULT_INSTANCE_TYPE,
    },
    sim: {
      host: e.ECS_SIM_HOST,
      port: e.ECS_SIM_PORT,
      accessKeyId: e.SIM_ACCESS_KEY_ID,
      accessKeySecret: e.SIM_ACCESS_KEY_SECRET,
      timeScale: e.SIM_TIME_SCALE,
      bootstrapSeconds: e.SIM_BOOTSTRAP_SECONDS,
      rateLimits: e.SIM_RATE_LIMITS,
      brokenReleases: split(e.SIM_BROKEN_RELEASES).map((v) => canonicalVersion(v) ?? v),
    },
    agent: {
      controlPlaneUrl: e.AGENT_CONTROL_PLANE_URL ?? `http://127.0.0.1:${e.API_PORT}`,
      leaseTtlSeconds: e.LEASE_TTL_SECONDS,
      renewSeconds: e.LEASE_RENEW_SECONDS,
      skewMarginSeconds: e.CLOCK_SKEW_MARGIN_SECONDS,
      stopBudgetSeconds: stopBudget,
      bootstrapTokenTtlSeconds: e.AGENT_BOOTSTRAP_TOKEN_TTL_SECONDS,
      signatureWindowSeconds: e.AGENT_SIGNATURE_WINDOW_SECONDS,
      protocol1UntilMs: e.AGENT_PROTOCOL1_UNTIL ? Date.parse(e.AGENT_PROTOCOL1_UNTIL) : null,
      identityCertFile: e.ECS_IDENTITY_CERT_FILE ?? null,
    },
    launch: {
      batchMax: e.LAUNCH_BATCH_MAX,
      batchWaitMs: e.LAUNCH_BATCH_WAIT_MS,
      batchMaxWaitMs: e.LAUNCH_BATCH_MAX_WAIT_MS,
    },
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    leaderLeaseSeconds: e.LEADER_LEASE_SECONDS,
    dbStuckSessionSeconds: e.DB_STUCK_SESSION_SECONDS,
    catalogRefreshSeconds: e.CATALOG_REFRESH_SECONDS,
    retention: {
      eventsDays: e.EVENTS_RETENTION_DAYS,
      hostHistoryDays: e.HOST_HISTORY_RETENTION_DAYS,
    },
    health: {
      sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
      hostStartupTimeoutSeconds: e.HOST_STARTUP_TIMEOUT_SECONDS,
      zoneUnhealthyThreshold: e.ZONE_UNHEALTHY_THRESHOLD,
      zoneMinHosts: e.ZONE_MIN_HOSTS,
      zoneRecoverySweeps: e.ZONE_RECOVERY_SWEEPS,
    },
    failover: {
      graceSeconds: e.FAILOVER_GRACE_SECONDS,
      maxConcurrent: e.FAILOVER_MAX_CONCURRENT,
      ratePerMinute: e.FAILOVER_RATE_PER_MINUTE,
      maxUnhealthyPercent: e.FAILOVER_MAX_UNHEALTHY_PERCENT,
      dailyBudget: e.FAILOVER_DAILY_BUDGET,
      deadlineSeconds: e.FAILOVER_DEADLINE_SECONDS,
      maxAttempts: e.FAILOVER_MAX_ATTEMPTS,
    },
    standbyPool,
    staking: {
      reportSeconds: e.STAKING_REPORT_SECONDS,
      staleAfterSeconds: 3 * e.STAKING_REPORT_SECONDS,
      evaluateSeconds: Math.min(15, e.STAKING_REPORT_SECONDS),
      atRiskFraction: e.STAKING_AT_RISK_BUDGET_PERCENT / 100,
      periodEndingHours: e.STAKING_PERIOD_ENDING_HOURS,
      observersPerValidator: e.STAKING_OBSERVERS,
      l1BalanceLowDays: e.L1_BALANCE_LOW_DAYS,
    },
    publicApi: {
      bodyLimitKb: e.API_BODY_LIMIT_KB,
      rateLimitRps: e.RATE_LIMIT_RPS,
      rateLimitBurst: e.RATE_LIMIT_BURST,
      idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS,
      eventsPollMs: e.EVENTS_POLL_MS,
      sseHeartbeatSeconds: e.SSE_HEARTBEAT_SECONDS,
      sseMaxStreamsPerKey: e.SSE_MAX_STREAMS_PER_KEY,
      agentAuthFailuresPerMinute: e.AGENT_AUTH_FAILURES_PER_MINUTE,
    },
    webhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      allowPrivateTargets: e.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    },
    metrics: { perValidator: e.METRICS_PER_VALIDATOR },
    avalanchego,
  };
}

/** For process entry points: parse or print the problems and exit 1. */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`snowline: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
