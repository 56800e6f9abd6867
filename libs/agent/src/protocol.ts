import { z } from 'zod';

/**
 * The agent protocol (`/v1/agent/*`). The agent in libs/agent is its only client; apps/api serves it.
 * Every call carries `Authorization: Bearer <bootstrapToken>` (from the instance's UserData).
 */
export const AGENT_PATHS = {
  register: '/v1/agent/register',
  lease: '/v1/agent/lease',
  keys: '/v1/agent/keys',
} as const;

/** What the worker puts into an instance's UserData (JSON, plain text before the cloud's base64). */
export const userDataSchema = z.object({
  snowline: z.literal(1),
  controlPlaneUrl: z.string().url(),
  hostId: z.string().uuid(),
  bootstrapToken: z.string().min(32),
});
export type UserData = z.infer<typeof userDataSchema>;

export const registerRequestSchema = z.object({
  hostId: z.string().uuid(),
  instanceId: z.string().min(1),
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const registerResponseSchema = z.object({
  hostId: z.string().uuid(),
  leaseTtlSeconds: z.number().positive(),
  renewIntervalSeconds: z.number().positive(),
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

export const keysRequestSchema = z.object({
  hostId: z.string().uuid(),
  generation: z.number().int().nonnegative(),
});
export type KeysRequest = z.infer<typeof keysRequestSchema>;

/**
 * 200 once per (host, generation). 409 fenced (generation moved), 410 already fetched,
 * 425 too early (the previous holder's lease has not expired yet; retry after `retryAfterMs`).
 */
export const keysResponseSchema = z.object({
  generation: z.number().int().nonnegative(),
  stakerCrt: z.string(),
  stakerKey: z.string(),
  /** base64 of the raw 32-byte BLS secret key */
  signerKey: z.string(),
});
export type KeysResponse = z.infer<typeof keysResponseSchema>;

export const tooEarlyResponseSchema = z.object({
  retryAfterMs: z.number().int().nonnegative(),
  reason: z.string(),
});
