import { z } from 'zod';
import {
  GetCurrentValidatorsParams,
  GetCurrentValidatorsResult,
  getCurrentValidatorsResultSchema,
  GetL1ValidatorResult,
  getL1ValidatorResultSchema,
  getTimestampResultSchema,
  GetValidatorFeeStateResult,
  getValidatorFeeStateResultSchema,
  UptimeResult,
  uptimeResultSchema,
  GetNodeIdResult,
  GetNodeVersionResult,
  getNodeIdResultSchema,
  getNodeVersionResultSchema,
  HealthResponse,
  healthResponseSchema,
  isBootstrappedResultSchema,
  JsonRpcError,
  jsonRpcResponseSchema,
  NODE_PATHS,
} from './node-schemas';

export const DEFAULT_NODE_TIMEOUT_MS = 5_000;

/** No usable answer: connection refused, DNS, reset, or timed out. Unknown — never "false" or 0. */
export class NodeUnreachable extends Error {
  override readonly name = 'NodeUnreachable';
  constructor(
    readonly url: string,
    readonly reason: 'timeout' | 'network',
    options?: { cause?: unknown },
  ) {
    super(`AvalancheGo at ${url} unreachable (${reason})`, options);
  }
}

/** The node answered, with a JSON-RPC error (HTTP 200 + `error`). */
export class NodeRpcError extends Error {
  override readonly name = 'NodeRpcError';
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method} failed: ${rpcMessage} (code ${code})`);
  }
}

/** The node answered, but not in a shape or with a status we understand. */
export class NodeBadResponse extends Error {
  override readonly name = 'NodeBadResponse';
  constructor(
    readonly url: string,
    readonly status: number,
    detail: string,
  ) {
    super(`AvalancheGo at ${url} gave an unexpected response (HTTP ${status}): ${detail}`);
  }
}

export interface AvalancheNodeClientOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Small typed client for one AvalancheGo node's HTTP API. Every call times out; every response is validated. */
export class AvalancheNodeClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private nextId = 1;

  constructor(baseUrl: string, opts: AvalancheNodeClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_NODE_TIMEOUT_MS;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  health(): Promise<HealthResponse> {
    return this.getHealth(NODE_PATHS.health);
  }

  /** healthy=false (503) until the node has bootstrapped. */
  readiness(): Promise<HealthResponse> {
    return this.getHealth(NODE_PATHS.readiness);
  }

  liveness(): Promise<HealthResponse> {
    return this.getHealth(NODE_PATHS.liveness);
  }

  getNodeID(): Promise<GetNodeIdResult> {
    return this.rpc(NODE_PATHS.info, 'info.getNodeID', {}, getNodeIdResultSchema);
  }

  async isBootstrapped(chain: string): Promise<boolean> {
    const r = await this.rpc(
      NODE_PATHS.info,
      'info.isBootstrapped',
      { chain },
      isBootstrappedResultSchema,
    );
    return r.isBootstrapped;
  }

  getNodeVersion(): Promise<GetNodeVersionResult> {
    return this.rpc(NODE_PATHS.info, 'info.getNodeVersion', {}, getNodeVersionResultSchema);
  }

  /** This node's view of its own uptime as its peers measure it; NodeRpcError if it is no validator. */
  uptime(): Promise<UptimeResult> {
    return this.rpc(NODE_PATHS.info, 'info.uptime', {}, uptimeResultSchema);
  }

  /** Current validators as this node sees them (uptime and connected are its own measurements). */
  getCurrentValidators(
    params: GetCurrentValidatorsParams = {},
  ): Promise<GetCurrentValidatorsResult> {
    return this.rpc(
      NODE_PATHS.platform,
      'platform.getCurrentValidators',
      params,
      getCurrentValidatorsResultSchema,
    );
  }

  getL1Validator(validationID: string): Promise<GetL1ValidatorResult> {
    return this.rpc(
      NODE_PATHS.platform,
      'platform.getL1Validator',
      { validationID },
      getL1ValidatorResultSchema,
    );
  }

  /** The L1 validators' continuous fee now: `price` nAVAX per second (ACP-77). */
  getValidatorFeeState(): Promise<GetValidatorFeeStateResult> {
    return this.rpc(
      NODE_PATHS.platform,
      'platform.getValidatorFeeState',
      {},
      getValidatorFeeStateResultSchema,
    );
  }

  /** The P-chain's clock as this node has it (the time to compare stake windows in). */
  async getTimestamp(): Promise<Date> {
    const r = await this.rpc(
      NODE_PATHS.platform,
      'platform.getTimestamp',
      {},
      getTimestampResultSchema,
    );
    return new Date(r.timestamp);
  }

  private async getHealth(path: string): Promise<HealthResponse> {
    const { url, status, body } = await this.send(path, { method: 'GET' });
    if (status !== 200 && status !== 503) {
      throw new NodeBadResponse(url, status, 'health endpoints answer 200 or 503');
    }
    const parsed = healthResponseSchema.safeParse(body);
    if (!parsed.success) throw new NodeBadResponse(url, status, z.prettifyError(parsed.error));
    return parsed.data;
  }

  private async rpc<T extends z.ZodType>(
    path: string,
    method: string,
    params: unknown,
    result: T,
  ): Promise<z.infer<T>> {
    const id = this.nextId++;
    const { url, status, body } = await this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    });
    if (status !== 200) throw new NodeBadResponse(url, status, `${method} expects HTTP 200`);
    const parsed = jsonRpcResponseSchema(result).safeParse(body);
    if (!parsed.success) throw new NodeBadResponse(url, status, z.prettifyError(parsed.error));
    const envelope = parsed.data as { error: JsonRpcError } | { result: z.infer<T> };
    if ('error' in envelope) {
      throw new NodeRpcError(
        method,
        envelope.error.code,
        envelope.error.message,
        envelope.error.data,
      );
    }
    return envelope.result;
  }

  private async send(
    path: string,
    init: RequestInit,
  ): Promise<{ url: string; status: number; body: unknown }> {
    const url = this.baseUrl + path;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      // Duck-typed: fetch's DOMException may come from another realm, where instanceof fails.
      const name = (err as { name?: unknown } | null)?.name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      throw new NodeUnreachable(url, timedOut ? 'timeout' : 'network', { cause: err });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new NodeBadResponse(url, res.status, 'body is not JSON');
    }
    return { url, status: res.status, body };
  }
}
