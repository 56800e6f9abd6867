import { z } from 'zod';

/**
 * Wire shapes of AvalancheGo's HTTP API, shared by AvalancheNodeClient (which validates every response)
 * and the simulated node (which builds its responses from the same types).
 */

export const NODE_PATHS = {
  health: '/ext/health',
  readiness: '/ext/health/readiness',
  liveness: '/ext/health/liveness',
  info: '/ext/info',
  /** The P-chain's API (platform.*), served under its alias. */
  platform: '/ext/bc/P',
} as const;

export const healthCheckResultSchema = z.object({
  message: z.unknown().optional(),
  error: z.object({ message: z.string() }).passthrough().optional(),
  timestamp: z.string(),
  duration: z.number(),
  contiguousFailures: z.number().int().nonnegative(),
  timeOfFirstFailure: z.string().nullable(),
});
export type HealthCheckResult = z.infer<typeof healthCheckResultSchema>;

/** Body of /ext/health, /readiness and /liveness: 200 when healthy, 503 when not, same shape. */
export const healthResponseSchema = z.object({
  checks: z.record(z.string(), healthCheckResultSchema),
  healthy: z.boolean(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const jsonRpcRequestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.number(), z.string()]),
  method: z.string(),
  params: z.unknown().optional(),
});
export type JsonRpcRequest = z.infer<typeof jsonRpcRequestSchema>;

export const jsonRpcErrorSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type JsonRpcError = z.infer<typeof jsonRpcErrorSchema>;

/** JSON-RPC 2.0 envelope: exactly one of result / error. Errors come with HTTP 200. */
export function jsonRpcResponseSchema<T extends z.ZodType>(result: T) {
  return z.union([
    z.object({
      jsonrpc: z.literal('2.0'),
      id: z.union([z.number(), z.string(), z.null()]),
      result,
    }),
    z.object({
      jsonrpc: z.literal('2.0'),
      id: z.union([z.number(), z.string(), z.null()]),
      error: jsonRpcErrorSchema,
    }),
  ]);
}

export const nodePopSchema = z.object({
  publicKey: z.string().regex(/^0x[0-9a-fA-F]{96}$/),
  proofOfPossession: z.string().regex(/^0x[0-9a-fA-F]{192}$/),
});
export type NodePop = z.infer<typeof nodePopSchema>;

export const getNodeIdResultSchema = z.object({
  nodeID: z.string().startsWith('NodeID-'),
  nodePOP: nodePopSchema.optional(),
});
export type GetNodeIdResult = z.infer<typeof getNodeIdResultSchema>;

export const isBootstrappedParamsSchema = z.object({ chain: z.string().min(1) });
export type IsBootstrappedParams = z.infer<typeof isBootstrappedParamsSchema>;

export const isBootstrappedResultSchema = z.object({ isBootstrapped: z.boolean() });
export type IsBootstrappedResult = z.infer<typeof isBootstrappedResultSchema>;

export const getNodeVersionResultSchema = z.object({
  version: z.string(),
  databaseVersion: z.string(),
  /** A decimal string in AvalancheGo's JSON (json.Uint32); some builds emit a number. */
  rpcProtocolVersion: z.union([z.string(), z.number()]),
  gitCommit: z.string(),
  vmVersions: z.record(z.string(), z.string()),
});
export type GetNodeVersionResult = z.infer<typeof getNodeVersionResultSchema>;

/** Method name → result schema, for the info API methods this project uses. */
export const infoMethods = {
  'info.getNodeID': getNodeIdResultSchema,
  'info.isBootstrapped': isBootstrappedResultSchema,
  'info.getNodeVersion': getNodeVersionResultSchema,
} as const;
export type InfoMethod = keyof typeof infoMethods;

// ---- P-chain (platform.*) and info.uptime -------------------------------------------------------
// Shapes from ava-labs/avalanchego: vms/platformvm/api/validator.go (Staker, PermissionlessValidator,
// APIL1Validator), vms/platformvm/service.go (GetCurrentValidators, GetL1Validator, GetTimestamp),
// api/info/service.go (UptimeResponse). json.Uint64 / json.Float32 / json.Float64 marshal as quoted
// decimal strings (utils/json/*.go; floats with 4 decimals); ids.ID / ids.NodeID as cb58 strings.

/** utils/json.Uint64: a quoted decimal. */
export const jsonUint64Schema = z.string().regex(/^\d+$/);
/** utils/json.Float32 / Float64: a quoted decimal, `strconv.FormatFloat(f, 'f', 4, …)`. */
export const jsonFloatSchema = z.string().regex(/^-?\d+(\.\d+)?$/);
/** ids.ID in JSON: cb58 of 32 bytes (no prefix). */
export const cb58IdSchema = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,50}$/);
/** types.JSONByteSlice / formatting.HexNC: 0x + hex, no checksum. */
const hexBytesSchema = z.string().regex(/^0x([0-9a-fA-F]{2})*$/);

/** The primary network's subnet ID (constants.PrimaryNetworkID = ids.Empty, cb58-encoded). */
export const PRIMARY_NETWORK_ID = '11111111111111111111111111111111LpoYY';

export const apiOwnerSchema = z.object({
  locktime: jsonUint64Schema,
  threshold: z.string().regex(/^\d+$/),
  addresses: z.array(z.string()),
});
export type ApiOwner = z.infer<typeof apiOwnerSchema>;

/** api.Staker: what every current staker shows (also permissioned subnet validators, as is). */
export const apiStakerSchema = z.object({
  txID: cb58IdSchema,
  startTime: jsonUint64Schema,
  endTime: jsonUint64Schema,
  weight: jsonUint64Schema,
  nodeID: z.string().startsWith('NodeID-'),
});
export type ApiStaker = z.infer<typeof apiStakerSchema>;

export const primaryDelegatorSchema = apiStakerSchema.extend({
  rewardOwner: apiOwnerSchema.optional(),
  potentialReward: jsonUint64Schema.optional(),
});

/**
 * api.PermissionlessValidator. `uptime` (0–100, as the *queried* node measures it) and `connected`
 * are set only for the primary network; `delegators` only when exactly one nodeID was asked for.
 */
export const permissionlessValidatorSchema = apiStakerSchema.extend({
  validationRewardOwner: apiOwnerSchema.optional(),
  delegationRewardOwner: apiOwnerSchema.optional(),
  potentialReward: jsonUint64Schema.optional(),
  accruedDelegateeReward: jsonUint64Schema.optional(),
  delegationFee: jsonFloatSchema,
  uptime: jsonFloatSchema.optional(),
  connected: z.boolean().optional(),
  signer: nodePopSchema.optional(),
  /** ACP-236 auto-renewed validators only. */
  validatorAuthority: apiOwnerSchema.nullable().optional(),
  nextPeriod: jsonUint64Schema.optional(),
  autoCompoundRewardShares: z.string().regex(/^\d+$/).optional(),
  delegatorCount: jsonUint64Schema.optional(),
  delegatorWeight: jsonUint64Schema.optional(),
  delegators: z.array(primaryDelegatorSchema).optional(),
});
export type PermissionlessValidator = z.infer<typeof permissionlessValidatorSchema>;

/** api.APIL1Validator (ACP-77): `balance` is what is left for the continuous fee; 0 when inactive. */
export const l1ValidatorSchema = z.object({
  nodeID: z.string().startsWith('NodeID-'),
  weight: jsonUint64Schema,
  startTime: jsonUint64Schema,
  validationID: cb58IdSchema.optional(),
  publicKey: hexBytesSchema.optional(),
  remainingBalanceOwner: apiOwnerSchema.optional(),
  deactivationOwner: apiOwnerSchema.optional(),
  minNonce: jsonUint64Schema.optional(),
  balance: jsonUint64Schema.optional(),
});
export type L1Validator = z.infer<typeof l1ValidatorSchema>;

export const getCurrentValidatorsParamsSchema = z.object({
  /** Omitted = the primary network. */
  subnetID: cb58IdSchema.optional(),
  /** Empty = all current validators; unknown NodeIDs are left out, not an error. */
  nodeIDs: z.array(z.string()).optional(),
});
export type GetCurrentValidatorsParams = z.infer<typeof getCurrentValidatorsParamsSchema>;

/** The reply is `[]any` in Go: permissionless validators, L1 validators, or bare stakers. */
export const currentValidatorSchema = z.union([
  permissionlessValidatorSchema,
  l1ValidatorSchema,
  apiStakerSchema,
]);
export type CurrentValidator = z.infer<typeof currentValidatorSchema>;

export const getCurrentValidatorsResultSchema = z.object({
  validators: z.array(currentValidatorSchema),
});
export type GetCurrentValidatorsResult = z.infer<typeof getCurrentValidatorsResultSchema>;

export const getL1ValidatorParamsSchema = z.object({ validationID: cb58IdSchema });
export type GetL1ValidatorParams = z.infer<typeof getL1ValidatorParamsSchema>;

export const getL1ValidatorResultSchema = l1ValidatorSchema.extend({
  subnetID: cb58IdSchema,
  /** Height of the last accepted P-chain block. */
  height: jsonUint64Schema,
});
export type GetL1ValidatorResult = z.infer<typeof getL1ValidatorResultSchema>;

/**
 * platform.getValidatorFeeState (vms/platformvm/service.go GetValidatorFeeStateReply): the L1
 * validators' fee excess and the price (nAVAX per second per active L1 validator) it gives now.
 * gas.Gas / gas.Price are bare uint64s (JSON numbers); a quoted decimal is accepted too.
 */
const uint64Schema = z.union([
  jsonUint64Schema,
  z
    .number()
    .int()
    .nonnegative()
    .transform((n) => String(n)),
]);
export const getValidatorFeeStateResultSchema = z.object({
  excess: uint64Schema,
  price: uint64Schema,
  timestamp: z.iso.datetime({ offset: true }),
});
export type GetValidatorFeeStateResult = z.infer<typeof getValidatorFeeStateResultSchema>;
/** As AvalancheGo writes it (numbers), for the simulated node. */
export type GetValidatorFeeStateReply = z.input<typeof getValidatorFeeStateResultSchema>;

/** platform.getTimestamp: the P-chain's clock (Go time.Time, RFC 3339). */
export const getTimestampResultSchema = z.object({
  timestamp: z.iso.datetime({ offset: true }),
});
export type GetTimestampResult = z.infer<typeof getTimestampResultSchema>;

/**
 * info.uptime, the node's view of itself: rewardingStakePercentage = % of stake (its own included)
 * whose measured uptime of it meets the requirement; weightedAveragePercentage = stake-weighted mean
 * of those uptimes (network/network.go NodeUptime). Fails with "node is not a validator" otherwise.
 */
export const uptimeResultSchema = z.object({
  rewardingStakePercentage: jsonFloatSchema,
  weightedAveragePercentage: jsonFloatSchema,
});
export type UptimeResult = z.infer<typeof uptimeResultSchema>;

/** Method name → result schema for the staking calls (info.uptime is served under /ext/info). */
export const stakingMethods = {
  'info.uptime': uptimeResultSchema,
  'platform.getCurrentValidators': getCurrentValidatorsResultSchema,
  'platform.getL1Validator': getL1ValidatorResultSchema,
  'platform.getTimestamp': getTimestampResultSchema,
  'platform.getValidatorFeeState': getValidatorFeeStateResultSchema,
} as const;
export type StakingMethod = keyof typeof stakingMethods;

/** Standard JSON-RPC codes plus AvalancheGo's generic server error. */
export const JSON_RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  serverError: -32000,
} as const;
