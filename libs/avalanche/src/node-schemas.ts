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

/** Standard JSON-RPC codes plus AvalancheGo's generic server error. */
export const JSON_RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  serverError: -32000,
} as const;
