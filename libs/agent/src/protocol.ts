import { z } from 'zod';
import { sealedKeysSchema } from './host-credential';
import { releaseSchema } from './release';

/**
 * The agent protocol (`/v1/agent/*`). The agent in libs/agent is its only client; apps/api serves it.
 *
 * Protocol 2 (UserData `snowline: 2`): the bootstrap token from UserData is single-use and
 * short-lived. `register` presents it (`Authorization: Bearer <token>`) with the public keys the
 * agent made on the instance (see host-credential.ts) and, where the cloud signs instance identity
 * documents, one whose audience names the signing key. Every later call — `lease`, `keys`, and a
 * restarted agent's `register` — is signed by that key (`Authorization: Snowline-Host …`); a
 * reimaged instance that lost its key registers a new one with a fresh identity document alone.
 * Keys come encrypted to the host's X25519 key.
 *
 * Protocol 1 (UserData `snowline: 1`, hosts launched before protocol 2): the bootstrap token is a
 * permanent bearer credential and keys come in the clear. Accepted only for hosts created before
 * the migration that introduced protocol 2 (see docs/identities.md, "Host credentials").
 */
export const AGENT_PATHS = {
  register: '/v1/agent/register',
  lease: '/v1/agent/lease',
  keys: '/v1/agent/keys',
  stopped: '/v1/agent/stopped',
  /** The staking channel (staking-report.ts): what the host's node says of staking, every minute. */
  staking: '/v1/agent/staking',
} as const;

/** What the worker puts into an instance's UserData (JSON, plain text before the cloud's base64). */
export const userDataSchema = z
  .object({
    snowline: z.union([z.literal(1), z.literal(2)]),
    controlPlaneUrl: z.string().url(),
    /** The host row; absent in a batch launch's UserData (every instance of it gets the same). */
    hostId: z.string().uuid().optional(),
    /** Protocol 2, a batch launch: the batch; the agent learns its host id at register. */
    batchId: z.string().uuid().optional(),
    bootstrapToken: z.string().min(32),
    /**
     * The AvalancheGo release this host runs (absent in UserData from before versions: the image's
     * own binary, version unknown). The agent fetches it and checks its SHA-256 before any node runs.
     */
    avalanchego: releaseSchema.optional(),
    /**
     * AvalancheGo settings for the host's node, by their config-file keys (config/keys.go); unknown
     * keys are dropped, so an older agent ignores a newer control plane's. `track-subnets`: the L1
     * an L1 validator (or an L1's standby) validates, comma-separated, as the flag takes it.
     */
    nodeConfig: z
      .object({
        'track-subnets': z
          .string()
          .regex(/^[1-9A-HJ-NP-Za-km-z]{36,50}(,[1-9A-HJ-NP-Za-km-z]{36,50}){0,15}$/)
          .optional(),
      })
      .optional(),
  })
  .refine((u) => (u.hostId ? !u.batchId : u.batchId && u.snowline === 2), {
    message: 'UserData names a hostId, or (protocol 2) a batchId',
  });
export type UserData = z.infer<typeof userDataSchema>;

/** The L1s a host's node is to track (`--track-subnets`), from its UserData; [] for none. */
export function trackedSubnetsOf(u: Pick<UserData, 'nodeConfig'>): string[] {
  const v = u.nodeConfig?.['track-subnets'];
  return v ? v.split(',') : [];
}

export const registerRequestSchema = z.object({
  /** Absent only for a batch launch's first registration, which names `batchId` instead. */
  hostId: z.string().uuid().optional(),
  batchId: z.string().uuid().optional(),
  instanceId: z.string().min(1).max(100),
  /** Protocol 2: the host's public keys (SPKI DER, base64). */
  signingKey: z.string().min(40).max(200).optional(),
  encryptionKey: z.string().min(40).max(200).optional(),
  /**
   * Protocol 2, where the cloud signs instance identity documents: the metadata service's document
   * and its PKCS#7 signature for the audience `instanceIdentityAudience(hostId, key fingerprint)`.
   */
  instanceIdentity: z
    .object({ document: z.string().min(2).max(8_000), pkcs7: z.string().min(1).max(20_000) })
    .optional(),
  /** The AvalancheGo version installed on the host; absent (an older agent) or null = unknown. */
  version: z.string().max(64).nullable().optional(),
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const registerResponseSchema = z.object({
  hostId: z.string().uuid(),
  /** 2 once the host's keys are bound (sign every later request); 1 for a protocol-1 host. */
  protocol: z.union([z.literal(1), z.literal(2)]).default(1),
  leaseTtlSeconds: z.number().positive(),
  renewIntervalSeconds: z.number().positive(),
  /** How often to report staking (`AGENT_PATHS.staking`); absent: a control plane without that channel. */
  stakingReportSeconds: z.number().positive().optional(),
});
export type RegisterResponse = z.infer<typeof registerResponseSchema>;

/** What the agent knows about its node. `null` means unknown (never "false" or 0 by default). */
export const nodeReportSchema = z.object({
  running: z.boolean(),
  nodeId: z.string().nullable(),
  healthy: z.boolean().nullable(),
  bootstrapped: z.boolean().nullable(),
  observedAt: z.string().datetime(),
  error: z.string().max(500).nullable().optional(),
  /**
   * The AvalancheGo version of this host's node (the release installed and run); absent (an agent
   * from before versions) or null = unknown, never guessed.
   */
  version: z.string().max(64).nullable().optional(),
  /**
   * The L1s (subnet ids) the node was started tracking (`--track-subnets`); absent (an older agent)
   * = unknown. AvalancheGo's API does not list a node's own tracked subnets: this is the driver's.
   */
  trackedSubnets: z.array(z.string().max(64)).max(16).optional(),
});
export type NodeReport = z.infer<typeof nodeReportSchema>;

export const leaseRequestSchema = z.object({
  hostId: z.string().uuid(),
  /** The generation whose identity this host runs (or is about to run); null when it runs none. */
  generation: z.number().int().nonnegative().nullable(),
  node: nodeReportSchema,
});
export type LeaseRequest = z.infer<typeof leaseRequestSchema>;

export const assignmentSchema = z.object({
  validatorId: z.string().uuid(),
  generation: z.number().int().nonnegative(),
  nodeId: z.string(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

/** 200: keep going (or start the assignment). A 409 `{ fenced: true }` means: stop the node now. */
export const leaseResponseSchema = z.object({
  role: z.enum(['assigned', 'standby']),
  assignment: assignmentSchema.nullable(),
  leaseExpiresAt: z.string().datetime(),
  leaseTtlSeconds: z.number().positive(),
});
export type LeaseResponse = z.infer<typeof leaseResponseSchema>;

export const fencedResponseSchema = z.object({
  fenced: z.literal(true),
  reason: z.string(),
});
export type FencedResponse = z.infer<typeof fencedResponseSchema>;

/**
 * A fenced agent's stop acknowledgment, sent once its node has exited: it runs no generation up to
 * `generation` (the last one it was given), ever. The control plane may hand the keys over on it
 * (`acknowledgesStop`) instead of waiting out the lease: a planned move takes seconds. 204 when
 * recorded; 409 when it does not count (the host is not fenced, or a newer generation was given).
 */
export const stoppedRequestSchema = z.object({
  hostId: z.string().uuid(),
  generation: z.number().int().nonnegative(),
});
export type StoppedRequest = z.infer<typeof stoppedRequestSchema>;

export const keysRequestSchema = z.object({
  hostId: z.string().uuid(),
  generation: z.number().int().nonnegative(),
});
export type KeysRequest = z.infer<typeof keysRequestSchema>;

/**
 * 200 once per (host, generation). 409 fenced (generation moved), 410 already fetched,
 * 425 too early (the previous holder's lease has not expired yet; retry after `retryAfterMs`).
 */
export const stakingKeysSchema = z.object({
  stakerCrt: z.string(),
  stakerKey: z.string(),
  /** base64 of the raw 32-byte BLS secret key */
  signerKey: z.string(),
});
export type StakingKeysWire = z.infer<typeof stakingKeysSchema>;

/** Protocol 2: the staking keys (stakingKeysSchema as JSON) sealed to the host, `keysAad(host, generation)`. */
export const keysResponseSchema = z.object({
  generation: z.number().int().nonnegative(),
  sealed: sealedKeysSchema,
});
export type KeysResponse = z.infer<typeof keysResponseSchema>;

/** Protocol 1 only: the keys in the clear. */
export const legacyKeysResponseSchema = stakingKeysSchema.extend({
  generation: z.number().int().nonnegative(),
});
export type LegacyKeysResponse = z.infer<typeof legacyKeysResponseSchema>;

/** The audience of the instance identity document a protocol-2 agent registers with (host or batch id). */
export const instanceIdentityAudience = (hostOrBatchId: string, signingKeyFingerprint: string) =>
  `snowline:${hostOrBatchId}:${signingKeyFingerprint}`;

export const tooEarlyResponseSchema = z.object({
  retryAfterMs: z.number().int().nonnegative(),
  reason: z.string(),
});
