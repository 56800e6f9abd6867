import {
  blsPublicFromSecret,
  GetNodeIdResult,
  GetNodeVersionResult,
  HealthResponse,
  isBootstrappedParamsSchema,
  JSON_RPC_CODES,
  jsonRpcRequestSchema,
  NODE_PATHS,
  nodeIdFromCertPem,
  StakingKeyMaterial,
} from '@snowline/avalanche';
import { NodeDriver } from './node-driver';
import type { NodeReport } from './protocol';

export interface SimulatedNodeDriverOptions {
  bootstrapMs: number;
  /** Bootstrap time of a restart once the chain data is synced (default: min(bootstrapMs, 500)). */
  warmBootstrapMs?: number;
  now?: () => number;
  version?: string;
  /**
   * Why a node of this version no longer validates (it missed a network upgrade's activation), or
   * null: the simulator passes its calendar's rule (`missedActivation`), read on every look.
   */
  outdated?: (version: string | null) => string | null;
  /**
   * A bad build: a node of this release under this NodeID starts, but never bootstraps (the
   * simulator's SIM_BROKEN_RELEASES: fine as a standby's throwaway node, broken with staking keys).
   */
  neverBootstraps?: (version: string | null, nodeId: string) => boolean;
  /** The L1s the node tracks (`--track-subnets` from the host's UserData): recorded and reported. */
  trackSubnets?: readonly string[];
}

export interface SimulatedHttpResponse {
  status: number;
  body: unknown;
}

const KNOWN_CHAINS = new Set(['P', 'X', 'C']);
const SIM_VERSION: GetNodeVersionResult = {
  version: 'avalanchego/1.13.0',
  databaseVersion: 'v1.4.5',
  rpcProtocolVersion: '39',
  gitCommit: 'simulated',
  vmVersions: { avm: 'v1.13.0', evm: 'v0.15.0', platform: 'v1.13.0' },
};

/**
 * A node that exists only as a few fields: 10,000 of these live in one simulator process, so there are
 * no timers — "bootstrapped" is derived from the start timestamp on every read.
 */
export class SimulatedNodeDriver extends NodeDriver {
  private readonly bootstrapMs: number;
  private readonly now: () => number;
  private version: GetNodeVersionResult;
  /** The release installed (canonical version); null = not known to this driver. */
  private release: string | null = null;
  private readonly outdated: (version: string | null) => string | null;
  private readonly neverBootstraps: (version: string | null, nodeId: string) => boolean;
  private readonly warmBootstrapMs: number;
  private readonly trackSubnets: string[];
  /** The chain data on disk is synced: a restart under other keys bootstraps in warmBootstrapMs. */
  private synced = false;
  private node: {
    nodeId: string;
    signerKey: Buffer;
    pop: { blsPublicKey: string; proofOfPossession: string } | null;
    startedAt: number;
    bootMs: number;
  } | null = null;

  constructor(opts: SimulatedNodeDriverOptions) {
    super();
    this.bootstrapMs = opts.bootstrapMs;
    this.warmBootstrapMs = opts.warmBootstrapMs ?? Math.min(opts.bootstrapMs, 500);
    this.now = opts.now ?? Date.now;
    this.version = opts.version ? { ...SIM_VERSION, version: opts.version } : SIM_VERSION;
    this.outdated = opts.outdated ?? (() => null);
    this.neverBootstraps = opts.neverBootstraps ?? (() => false);
    this.trackSubnets = [...(opts.trackSubnets ?? [])];
  }

  /** The L1s this node tracks, as it was started (`--track-subnets`). */
  trackedSubnets(): string[] {
    return [...this.trackSubnets];
  }

  /**
   * The release the host installed. `info.getNodeVersion` answers its major.minor.patch only, as a
   * real node does (a `-fuji` build reports `avalanchego/1.15.0`: version/constants.go `Current`).
   */
  setRelease(version: string): void {
    this.release = version;
    const core = /^\d+\.\d+\.\d+/.exec(version)?.[0] ?? version;
    this.version = { ...this.version, version: `avalanchego/${core}` };
  }

  /**
   * Why this node stopped validating (it runs a version an activation left behind), or null. Peers
   * disconnect it (network/peer/peer.go shouldDisconnect), so its network check fails.
   */
  outdatedReason(): string | null {
    return this.node ? this.outdated(this.release) : null;
  }

  /** Running, bootstrapped and still accepted by its peers: what the network counts as up. */
  validating(): boolean {
    return this.isBootstrapped() && this.outdatedReason() === null;
  }

  async start(keys: StakingKeyMaterial): Promise<void> {
    const nodeId = nodeIdFromCertPem(keys.stakerCrt);
    if (this.node?.nodeId === nodeId) return;
    if (this.node && this.isBootstrapped()) this.synced = true;
    // A different identity replaces the old one, like restarting avalanchego with other key files.
    // The BLS public key and PoP (~26 ms of CPU) are derived only when a client asks for them.
    this.node = {
      nodeId,
      signerKey: Buffer.from(keys.signerKey),
      pop: null,
      startedAt: this.now(),
      bootMs: this.synced ? this.warmBootstrapMs : this.bootstrapMs,
    };
  }

  /** A simulated node stops at once, within any deadline. */
  async stop(_timeoutMs?: number): Promise<void> {
    if (this.node && this.isBootstrapped()) this.synced = true;
    this.node?.signerKey.fill(0);
    this.node = null;
  }

  private pop(): { blsPublicKey: string; proofOfPossession: string } {
    const node = this.node!;
    node.pop ??= blsPublicFromSecret(node.signerKey);
    return node.pop;
  }

  async report(): Promise<NodeReport> {
    const observedAt = new Date(this.now()).toISOString();
    if (!this.node) {
      return {
        running: false,
        nodeId: null,
        healthy: false,
        bootstrapped: false,
        observedAt,
        error: null,
        version: this.release,
        trackedSubnets: this.trackedSubnets(),
      };
    }
    const bootstrapped = this.isBootstrapped();
    const outdated = this.outdatedReason();
    return {
      running: true,
      nodeId: this.node.nodeId,
      healthy: bootstrapped && outdated === null,
      bootstrapped,
      observedAt,
      error: outdated,
      version: this.release,
      trackedSubnets: this.trackedSubnets(),
    };
  }

  /** The node's HTTP API, for the simulator to serve on the instance's address. */
  async handle(method: string, path: string, body: unknown): Promise<SimulatedHttpResponse> {
    const route = path.split('?')[0].replace(/\/+$/, '');
    const isHealth =
      route === NODE_PATHS.health ||
      route === NODE_PATHS.readiness ||
      route === NODE_PATHS.liveness;
    if (!isHealth && route !== NODE_PATHS.info)
      return { status: 404, body: { error: 'not found' } };
    // A stopped node answers nothing useful; the simulator may turn this into a refused connection.
    if (!this.node) {
      const down: HealthResponse = { checks: {}, healthy: false };
      return { status: 503, body: isHealth ? down : { error: 'node not running' } };
    }
    if (isHealth) {
      if (method !== 'GET' && method !== 'POST')
        return { status: 405, body: { error: 'method not allowed' } };
      const report = route === NODE_PATHS.liveness ? this.liveness() : this.health();
      return { status: report.healthy ? 200 : 503, body: report };
    }
    if (method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
    return { status: 200, body: this.rpc(body) };
  }

  private isBootstrapped(): boolean {
    if (this.node === null || this.neverBootstraps(this.release, this.node.nodeId)) return false;
    return this.now() - this.node.startedAt >= this.node.bootMs;
  }

  private check(ok: boolean, message: unknown, error: string) {
    const timestamp = new Date(this.now()).toISOString();
    return {
      message,
      ...(ok ? {} : { error: { message: error } }),
      timestamp,
      duration: 1000,
      contiguousFailures: ok ? 0 : 1,
      timeOfFirstFailure: ok ? null : new Date(this.node?.startedAt ?? this.now()).toISOString(),
    };
  }

  private health(): HealthResponse {
    const bootstrapped = this.isBootstrapped();
    // An outdated node's peers have dropped it: network/network.go HealthCheck's own message.
    const cutOff = this.outdatedReason() !== null;
    const connected = bootstrapped && !cutOff;
    const checks: HealthResponse['checks'] = {
      bls: this.check(true, null, ''),
      network: this.check(
        connected,
        { connectedPeers: connected ? 32 : 0 },
        cutOff
          ? 'network layer is unhealthy reason: not connected to a minimum of 1 peer(s) only 0'
          : 'not connected to enough stake',
      ),
    };
    for (const chain of KNOWN_CHAINS) {
      checks[chain] = this.check(bootstrapped, { bootstrapped }, 'subnet not bootstrapped');
    }
    return { checks, healthy: connected };
  }

  private liveness(): HealthResponse {
    return { checks: { liveness: this.check(true, null, '') }, healthy: true };
  }

  private rpc(body: unknown): unknown {
    const req = jsonRpcRequestSchema.safeParse(body);
    if (!req.success) {
      return rpcError(null, JSON_RPC_CODES.invalidRequest, 'invalid JSON-RPC request');
    }
    const { id, method, params } = req.data;
    const node = this.node!;
    switch (method) {
      case 'info.getNodeID': {
        const result: GetNodeIdResult = {
          nodeID: node.nodeId,
          nodePOP: {
            publicKey: this.pop().blsPublicKey,
            proofOfPossession: this.pop().proofOfPossession,
          },
        };
        return { jsonrpc: '2.0', id, result };
      }
      case 'info.isBootstrapped': {
        const p = isBootstrappedParamsSchema.safeParse(params);
        if (!p.success) return rpcError(id, JSON_RPC_CODES.invalidParams, 'missing chain');
        if (!KNOWN_CHAINS.has(p.data.chain)) {
          return rpcError(
            id,
            JSON_RPC_CODES.serverError,
            `there is no chain with alias/ID of ${p.data.chain}`,
          );
        }
        return { jsonrpc: '2.0', id, result: { isBootstrapped: this.isBootstrapped() } };
      }
      case 'info.getNodeVersion':
        return { jsonrpc: '2.0', id, result: this.version };
      default:
        return rpcError(
          id,
          JSON_RPC_CODES.methodNotFound,
          `the method ${method} does not exist/is not available`,
        );
    }
  }
}

function rpcError(id: string | number | null, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}
