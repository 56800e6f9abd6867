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
  };
  provisionTimeoutSeconds: number;
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
    /** One `snowline_validator_state` series per validator; off by default (cardinality). */
    perValidator: boolean;
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
    launch: { batchMax: e.LAUNCH_BATCH_MAX, batchWaitMs: e.LAUNCH_BATCH_WAIT_MS },
    provisionTimeoutSeconds: e.PROVISION_TIMEOUT_SECONDS,
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
