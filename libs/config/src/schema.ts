import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().positive();
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every setting Snowline reads, in one place. Nothing else reads process.env. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/snowline'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379/0'),
  /** Prefix for every BullMQ key, so several stacks can share one Redis db. */
  QUEUE_PREFIX: z.string().min(1).default('snowline'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  ECS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  ECS_SIM_PORT: port.default(3100),
  SNOWLINE_DATA_DIR: z.string().min(1).default('.snowline'),
  SNOWLINE_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  SNOWLINE_MASTER_KEY: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  /** `sim` points the ECS client at apps/ecs-sim; `alibaba` at real Alibaba Cloud. */
  CLOUD_PROVIDER: z.enum(['sim', 'alibaba']).default('sim'),
  CLOUD_REGION: z.string().min(1).default('cn-hongkong'),
  CLOUD_ZONES: csv
    .pipe(z.array(z.string().min(1)).min(1))
    .default(['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d']),
  /** zone=vswitch pairs, e.g. `cn-hongkong-b=vsw-abc,cn-hongkong-c=vsw-def`. */
  ECS_VSWITCHES: z.string().optional(),
  ECS_SECURITY_GROUP_ID: z.string().min(1).default('sg-sim-default'),
  ECS_IMAGE_ID: z.string().min(1).default('ubuntu_24_04_x64_20G_alibase_20250101.vhd'),
  ECS_ENDPOINT: z.string().min(1).optional(),
  ECS_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  DEFAULT_INSTANCE_TYPE: z.string().min(1).default('ecs.g7.2xlarge'),
  SIM_ACCESS_KEY_ID: z.string().min(1).default('snowline-sim'),
  SIM_ACCESS_KEY_SECRET: z.string().min(1).default('snowline-sim-secret'),
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().min(1).optional(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  /** URL the host agents use to reach the control plane (put into each instance's UserData). */
  AGENT_CONTROL_PLANE_URL: z.string().url().optional(),
  LEASE_TTL_SECONDS: seconds.default(45),
  LEASE_RENEW_SECONDS: seconds.default(10),
  CLOCK_SKEW_MARGIN_SECONDS: z.coerce.number().min(0).default(5),
  /**
   * How long before its lease ends an agent that cannot renew starts stopping its node: SIGTERM at
   * lease end − budget, SIGKILL at lease end. Unset: a quarter of the TTL, at most 10 s.
   */
  AGENT_STOP_BUDGET_SECONDS: seconds.optional(),
  /** A protocol-2 bootstrap token opens nothing this long after its RunInstances call. */
  AGENT_BOOTSTRAP_TOKEN_TTL_SECONDS: seconds.default(1800),
  /** A signed agent request is refused when its timestamp is further than this from the database's clock. */
  AGENT_SIGNATURE_WINDOW_SECONDS: seconds.default(300),
  /** Protocol-1 hosts (launched before host credentials) are refused after this instant; unset: until replaced. */
  AGENT_PROTOCOL1_UNTIL: z.string().datetime({ offset: true }).optional(),
  /** PEM certificate that signs ECS instance identity documents (real Alibaba Cloud); the simulator publishes its own. */
  ECS_IDENTITY_CERT_FILE: z.string().min(1).optional(),
  LAUNCH_BATCH_MAX: z.coerce.number().int().min(1).max(100).default(100),
  LAUNCH_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  LAUNCH_BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  RECONCILE_INTERVAL_SECONDS: seconds.default(15),
  /** A loop's leader lease (a row, by the database's clock): a frozen leader loses its loops after this. */
  LEADER_LEASE_SECONDS: seconds.default(10),
  /** A session idle in a transaction, or a job's validator lock not heartbeated, ends after this. */
  DB_STUCK_SESSION_SECONDS: seconds.default(30),
  SWEEP_INTERVAL_SECONDS: seconds.default(5),
  /** How often the worker re-reads the region's instance-type catalog (at start, then this often). */
  CATALOG_REFRESH_SECONDS: seconds.default(600),
  /** Events (and finished webhook deliveries) older than this are deleted by the worker's retention loop. */
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Deleted hosts (instance gone) whose deletion and lease are older than this are deleted. */
  HOST_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  HOST_STARTUP_TIMEOUT_SECONDS: seconds.default(600),
  ZONE_UNHEALTHY_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.55),
  ZONE_MIN_HOSTS: z.coerce.number().int().min(1).default(3),
  ZONE_RECOVERY_SWEEPS: z.coerce.number().int().min(1).default(3),
  FAILOVER_GRACE_SECONDS: z.coerce.number().min(0).default(5),
  FAILOVER_MAX_CONCURRENT: z.coerce.number().int().min(1).default(20),
  FAILOVER_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  FAILOVER_MAX_UNHEALTHY_PERCENT: z.coerce.number().min(0).max(100).default(60),
  FAILOVER_DAILY_BUDGET: z.coerce.number().int().min(1).default(3),
  /** A move not done by then is re-planned onto another target (the move watchdog). */
  FAILOVER_DEADLINE_SECONDS: seconds.default(180),
  /** Attempts per move before the validator is `failed` with a reason. */
  FAILOVER_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** Warm standbys kept per zone and network, e.g. `fuji=1,mainnet=2`; `0` or empty for none. */
  STANDBY_POOL: z.string().default('fuji=1'),
  /**
   * The AvalancheGo version a validator runs when its spec names none: one version for every
   * network (`1.15.3`), or per network (`fuji=1.15.3,mainnet=1.15.3`). Each needs a release below.
   */
  AVALANCHEGO_VERSION: z.string().min(1).default('1.15.3'),
  /**
   * The releases hosts may run, pinned by SHA-256: `version=sha256hex[@url]`, comma-separated. The
   * agent downloads the release and refuses to run it unless the hash matches. Default with
   * CLOUD_PROVIDER=sim: the simulator's artifacts; required with CLOUD_PROVIDER=alibaba.
   */
  AVALANCHEGO_RELEASES: z.string().optional(),
  /** Where a release is downloaded from, `{version}` replaced; an entry's own `@url` wins. */
  AVALANCHEGO_RELEASE_URL: z
    .string()
    .regex(/^https?:\/\/\S*\{version\}\S*$/, 'must be an http(s) URL containing {version}')
    .optional(),
  /**
   * Network-upgrade activations beyond (or rescheduling) the published ones built in:
   * `network/Name/2027-01-01T15:00:00Z/1.16.0`, comma-separated.
   */
  NETWORK_UPGRADES: z.string().default(''),
  /** Warn (event, console, plan) this many days before an activation a validator will not survive. */
  UPGRADE_WARNING_DAYS: z.coerce.number().positive().default(30),
  /** How often the worker checks every validator's version against the next activation. */
  UPGRADE_CHECK_INTERVAL_SECONDS: seconds.default(60),
  /** Rolling upgrades: planned moves leaving one zone at once. */
  UPGRADE_MAX_IN_FLIGHT_PER_ZONE: z.coerce.number().int().min(0).default(1),
  /** A planned move's new node must be healthy and validating this soon, or it rolls back. */
  UPGRADE_MOVE_DEADLINE_SECONDS: seconds.default(120),
  /** `upgrade: before-deadline`: give the validator a surviving version this many days ahead. */
  UPGRADE_AUTO_DAYS: z.coerce.number().positive().default(7),
  /** ... and only inside this daily UTC window (`02:00-06:00`); empty: any time. */
  UPGRADE_WINDOW_UTC: z.string().default(''),
  /** How often each agent reports its node's view of staking, on its own channel (not the lease). */
  STAKING_REPORT_SECONDS: seconds.default(60),
  /** A validator is at risk when its downtime budget left is below this share of its budget. */
  STAKING_AT_RISK_BUDGET_PERCENT: z.coerce.number().min(0).max(100).default(50),
  /** `staking.period_ending` this long before a stake ends (at most a quarter of its period). */
  STAKING_PERIOD_ENDING_HOURS: z.coerce.number().positive().default(24),
  /** How many other nodes on its network look each validator up on their P-chain. */
  STAKING_OBSERVERS: z.coerce.number().int().min(0).max(10).default(2),
  /**
   * `l1.balance_low` once an L1 validator's balance pays fewer than this many days of its continuous
   * fee at the P-chain's current price (14 d at 512 nAVAX/s ≈ 0.62 AVAX).
   */
  L1_BALANCE_LOW_DAYS: z.coerce.number().positive().default(14),
  /**
   * Simulator: multiply every lifecycle delay by this factor (0.1 = ten times faster); the simulated
   * P-chain's clock runs 1/factor as fast as the wall clock.
   */
  SIM_TIME_SCALE: z.coerce.number().positive().default(1),
  SIM_BOOTSTRAP_SECONDS: z.coerce.number().min(0).default(3),
  SIM_RATE_LIMITS: bool.default(false),
  /**
   * Simulator: AvalancheGo versions that are bad builds, comma-separated: a standby's throwaway node
   * syncs, but one started with a validator's staking keys never bootstraps (what a rollback is for).
   */
  SIM_BROKEN_RELEASES: z.string().default(''),
  /** Largest accepted request body, in KiB (larger → 413). */
  API_BODY_LIMIT_KB: z.coerce.number().int().positive().default(256),
  /** Per-API-key rate limit: sustained requests per second (0 = off) and burst size. */
  RATE_LIMIT_RPS: z.coerce.number().min(0).default(50),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100),
  /** How long an Idempotency-Key and its first response are kept. */
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().positive().default(24),
  /** How often the event feed (SSE and webhook fan-out) reads new events. */
  EVENTS_POLL_MS: z.coerce.number().int().min(50).default(500),
  SSE_HEARTBEAT_SECONDS: seconds.default(15),
  /** Open SSE streams one API key may hold on one API replica; more get 429 with Retry-After. */
  /** Failed agent authentications one client address may make a minute before it gets 429. */
  AGENT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  SSE_MAX_STREAMS_PER_KEY: z.coerce.number().int().min(1).default(10),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** First retry delay; doubles per attempt (exponential back-off). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().positive().default(2000),
  /**
   * Webhook URLs may target loopback/private/link-local/reserved addresses (SSRF guard off). Off in
   * every NODE_ENV: a local receiver is an explicit choice, never a side effect of NODE_ENV.
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool.default(false),
  /** `/metrics` also carries one series per validator (its state); off: fleet-wide counts only. */
  METRICS_PER_VALIDATOR: bool.default(false),
});

export type Env = z.infer<typeof envSchema>;
