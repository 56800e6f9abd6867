import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  cb58Encode,
  GetCurrentValidatorsResult,
  getCurrentValidatorsParamsSchema,
  GetL1ValidatorResult,
  getL1ValidatorParamsSchema,
  GetTimestampResult,
  GetValidatorFeeStateReply,
  isNodeId,
  JSON_RPC_CODES,
  jsonRpcRequestSchema,
  L1Validator,
  NODE_PATHS,
  PermissionlessValidator,
  PRIMARY_NETWORK_ID,
  UptimeResult,
  verifyProofOfPossession,
} from '@snowline/avalanche';
import type { SimState } from './state';

/**
 * The simulated network's one view of the P-chain: who validates, and how the network measures their
 * uptime, computed from the simulator's ground truth (which instance runs which NodeID, and whether it
 * can be reached). Every simulated node answers `platform.*` and `info.uptime` from this view.
 *
 * Time is the P-chain's clock: it runs 1/timeScale times as fast as the wall clock (SIM_TIME_SCALE
 * 0.001 turns a 48 h stake into ~173 s), starting at the wall time the simulator started.
 */

/** Since Helicon (ACP-267), validations that start at or after activation need 90 % (genesis/params.go). */
export const ACP267_UPTIME_REQUIREMENT = 0.9;
/** genesis/genesis_mainnet.go and genesis_fuji.go: StakingConfig.UptimeRequirement. */
export const PRE_HELICON_UPTIME_REQUIREMENT = 0.8;
/** Mainnet Helicon activation (AvalancheGo v1.15.0 release; unscheduled in upgrade/upgrade.go before). */
export const MAINNET_HELICON_TIME = Date.parse('2026-09-22T15:00:00Z');
/** genesis/genesis_mainnet.go ValidatorFeeConfig.MinPrice: 512 nAVAX per second per L1 validator. */
export const L1_MIN_FEE_NAVAX_PER_SECOND = 512n;
/**
 * Two reachable nodes claiming one NodeID: peers keep one connection per NodeID and switch between
 * the two as they reconnect, so each sees the NodeID disconnected for part of the time. The simulator
 * models that as half the time counted up — worse than one node, better than none.
 */
export const DUPLICATE_UPTIME_CREDIT = 0.5;
/** The rest of the primary network's stake (about mainnet's, nAVAX): always connected, always honest. */
export const DEFAULT_BACKGROUND_STAKE = 240_000_000n * 1_000_000_000n;

/** What the network can see of one instance: it runs this NodeID, and peers can reach it or not. */
export interface NodeClaim {
  instanceId: string;
  nodeId: string;
  reachable: boolean;
}

/** A staking transaction the P-chain refuses (the sim endpoint answers 400). */
export class PChainRejected extends Error {
  override readonly name = 'PChainRejected';
}

const decimal = z.union([
  z.string().regex(/^\d+$/, 'must be a decimal integer'),
  z.number().int().nonnegative(),
]);
const unixSeconds = decimal.transform((v) => Number(v) * 1000);

/** `POST /_sim/pchain/validators`: stands in for AddPermissionlessValidatorTx / RegisterL1ValidatorTx. */
export const registerValidatorSchema = z
  .object({
    nodeId: z.string().refine(isNodeId, 'must be a NodeID-… with a valid checksum'),
    blsPublicKey: z.string(),
    proofOfPossession: z.string(),
    weight: decimal.transform((v) => BigInt(v)).refine((w) => w > 0n, 'must be positive'),
    /** Unix seconds on the P-chain clock; default: now. */
    startTime: unixSeconds.optional(),
    /** Unix seconds on the P-chain clock; required for the primary network. */
    endTime: unixSeconds.optional(),
    /** Present = an L1 validator of that subnet (ACP-77). */
    subnetId: z.string().min(1).optional(),
    /** L1 only: nAVAX deposited for the continuous fee. */
    balance: decimal.transform((v) => BigInt(v)).optional(),
  })
  .strict();
export type RegisterValidatorInput = z.input<typeof registerValidatorSchema>;

interface Validation {
  txID: string;
  nodeId: string;
  subnetId: string;
  validationId: string | null;
  blsPublicKey: string;
  proofOfPossession: string;
  weight: bigint;
  startMs: number;
  endMs: number | null;
  /** L1: the deposit and when fees started to run. */
  balance0: bigint;
  /** P-chain ms counted up since startMs, up to sampledTo. */
  upMs: number;
  sampledTo: number;
  /** Reachable nodes claiming the NodeID at the last sample. */
  claimants: number;
}

export interface NetworkViewOptions {
  /** Wall clock (ms). */
  now?: () => number;
  /** As SIM_TIME_SCALE: 0.1 = the P-chain clock runs ten times faster than the wall clock. */
  timeScale?: number;
  heliconTime?: number;
  feeNavaxPerSecond?: bigint;
  backgroundStake?: bigint;
}

const fmt = (f: number): string => f.toFixed(4);
const randomId = (): string => cb58Encode(randomBytes(32));
const secs = (ms: number): string => String(Math.floor(ms / 1000));
/** A P-chain owner the simulator does not model (no keys): threshold 0, nobody. */
const NOBODY = { locktime: '0', threshold: '0', addresses: [] as string[] };

export class NetworkView {
  private readonly now: () => number;
  private readonly timeScale: number;
  private readonly epochWall: number;
  private readonly heliconTime: number;
  private readonly feeRate: bigint;
  private readonly backgroundStake: bigint;
  private readonly validations: Validation[] = [];
  private height = 0;

  constructor(opts: NetworkViewOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.timeScale = opts.timeScale ?? 1;
    this.epochWall = this.now();
    this.heliconTime = opts.heliconTime ?? MAINNET_HELICON_TIME;
    this.feeRate = opts.feeNavaxPerSecond ?? L1_MIN_FEE_NAVAX_PER_SECOND;
    this.backgroundStake = opts.backgroundStake ?? DEFAULT_BACKGROUND_STAKE;
  }

  /** The P-chain clock (ms) at a wall time. */
  pchainNow(wall = this.now()): number {
    return Math.floor(this.epochWall + (wall - this.epochWall) / this.timeScale);
  }

  get size(): number {
    return this.validations.length;
  }

  /** The NodeIDs whose uptime the view tracks. */
  nodeIds(): Set<string> {
    return new Set(this.validations.map((v) => v.nodeId));
  }

  /**
   * Verifies and applies a staking transaction. The proof of possession is checked as the P-chain
   * does: vms/platformvm/signer/proof_of_possession.go Verify(), called by
   * txs/add_permissionless_validator_tx.go SyntacticVerify and, for L1s, by
   * txs/executor/standard_tx_executor.go RegisterL1ValidatorTx.
   */
  register(raw: unknown): {
    txID: string;
    validationID?: string;
    startTime: string;
    endTime?: string;
  } {
    const parsed = registerValidatorSchema.safeParse(raw);
    if (!parsed.success) throw new PChainRejected(z.prettifyError(parsed.error));
    const input = parsed.data;
    if (!verifyProofOfPossession(input.blsPublicKey, input.proofOfPossession)) {
      throw new PChainRejected('invalid proof of possession');
    }
    const now = this.pchainNow();
    const l1 = input.subnetId !== undefined && input.subnetId !== PRIMARY_NETWORK_ID;
    const subnetId = l1 ? input.subnetId! : PRIMARY_NETWORK_ID;
    const startMs = input.startTime ?? now;
    let endMs: number | null = null;
    if (l1) {
      if (input.balance === undefined) throw new PChainRejected('an L1 validator needs a balance');
      if (input.endTime !== undefined) throw new PChainRejected('L1 validators have no end time');
    } else {
      if (input.balance !== undefined) throw new PChainRejected('balance is for L1 validators');
      if (input.endTime === undefined) throw new PChainRejected('endTime is required');
      if (input.endTime <= startMs) throw new PChainRejected('endTime must be after startTime');
      endMs = input.endTime;
    }
    // txs/executor/staker_tx_verification.go ErrDuplicateValidator.
    if (this.current(subnetId, now).some((v) => v.nodeId === input.nodeId)) {
      throw new PChainRejected(
        `duplicate validator: ${input.nodeId} already validates ${subnetId}`,
      );
    }
    const v: Validation = {
      txID: randomId(),
      nodeId: input.nodeId,
      subnetId,
      validationId: l1 ? randomId() : null,
      blsPublicKey: input.blsPublicKey.toLowerCase(),
      proofOfPossession: input.proofOfPossession.toLowerCase(),
      weight: input.weight,
      startMs,
      endMs,
      balance0: input.balance ?? 0n,
      upMs: 0,
      sampledTo: startMs,
      claimants: 0,
    };
    this.validations.push(v);
    this.height++;
    return {
      txID: v.txID,
      ...(v.validationId ? { validationID: v.validationId } : {}),
      startTime: secs(startMs),
      ...(endMs !== null ? { endTime: secs(endMs) } : {}),
    };
  }

  /**
   * Accrues uptime from one look at the ground truth. The interval since the last sample counts by
   * what is seen now: one reachable claimant = up, none = down, two or more = DUPLICATE_UPTIME_CREDIT.
   */
  sample(claims: NodeClaim[], wall = this.now()): void {
    const now = this.pchainNow(wall);
    const count = new Map<string, number>();
    for (const c of claims) {
      if (c.reachable) count.set(c.nodeId, (count.get(c.nodeId) ?? 0) + 1);
    }
    for (const v of this.validations) {
      const n = count.get(v.nodeId) ?? 0;
      v.claimants = n;
      const to = Math.min(now, v.endMs ?? Infinity);
      const from = Math.max(v.sampledTo, v.startMs);
      if (to <= from) continue;
      v.upMs += (to - from) * credit(n);
      v.sampledTo = to;
    }
  }

  /** Uptime in [0, 1] as peers measured it since startMs (snow/uptime/manager.go CalculateUptimePercentFrom). */
  private uptime(v: Validation): number {
    const best = v.sampledTo - v.startMs;
    return best <= 0 ? 1 : Math.min(1, v.upMs / best);
  }

  /** ACP-267: by the validation's start time against Helicon's activation (network/network.go NodeUptime). */
  uptimeRequirement(startMs: number): number {
    return startMs >= this.heliconTime ? ACP267_UPTIME_REQUIREMENT : PRE_HELICON_UPTIME_REQUIREMENT;
  }

  private current(subnetId: string, now: number): Validation[] {
    return this.validations.filter(
      (v) => v.subnetId === subnetId && v.startMs <= now && (v.endMs === null || now < v.endMs),
    );
  }

  private balance(v: Validation, now: number): bigint {
    const paid = this.feeRate * BigInt(Math.max(0, Math.floor((now - v.startMs) / 1000)));
    return v.balance0 > paid ? v.balance0 - paid : 0n;
  }

  private toL1(v: Validation, now: number): L1Validator {
    return {
      nodeID: v.nodeId,
      weight: v.weight.toString(),
      startTime: secs(v.startMs),
      validationID: v.validationId!,
      publicKey: v.blsPublicKey,
      remainingBalanceOwner: NOBODY,
      deactivationOwner: NOBODY,
      minNonce: '0',
      balance: this.balance(v, now).toString(),
    };
  }

  /** platform.getCurrentValidators (vms/platformvm/service.go getPrimaryOrSubnetValidators / getL1Validators). */
  getCurrentValidators(params: unknown): GetCurrentValidatorsResult {
    const p = getCurrentValidatorsParamsSchema.parse(params ?? {});
    const subnetId = p.subnetID ?? PRIMARY_NETWORK_ID;
    const wanted = new Set(p.nodeIDs ?? []);
    const now = this.pchainNow();
    const vs = this.current(subnetId, now).filter((v) => wanted.size === 0 || wanted.has(v.nodeId));
    if (subnetId !== PRIMARY_NETWORK_ID) return { validators: vs.map((v) => this.toL1(v, now)) };
    return {
      validators: vs.map((v): PermissionlessValidator => ({
        txID: v.txID,
        startTime: secs(v.startMs),
        endTime: secs(v.endMs!),
        weight: v.weight.toString(),
        nodeID: v.nodeId,
        // Rewards are not modelled: no reward owner, no potential reward.
        potentialReward: '0',
        accruedDelegateeReward: '0',
        delegationFee: fmt(2),
        uptime: fmt(this.uptime(v) * 100),
        connected: v.claimants > 0,
        signer: { publicKey: v.blsPublicKey, proofOfPossession: v.proofOfPossession },
        delegatorCount: '0',
        delegatorWeight: '0',
        ...(wanted.size === 1 ? { delegators: [] } : {}),
      })),
    };
  }

  /** platform.getL1Validator; AvalancheGo fails with "fetching L1 validator … failed: not found". */
  getL1Validator(params: unknown): GetL1ValidatorResult {
    const p = getL1ValidatorParamsSchema.parse(params ?? {});
    const now = this.pchainNow();
    const v = this.validations.find((x) => x.validationId === p.validationID);
    if (!v) throw new RpcFailure(`fetching L1 validator "${p.validationID}" failed: not found`);
    return { ...this.toL1(v, now), subnetID: v.subnetId, height: String(this.height) };
  }

  getTimestamp(): GetTimestampResult {
    return { timestamp: new Date(this.pchainNow()).toISOString() };
  }

  /** platform.getValidatorFeeState: no excess modelled, so the price is the configured rate. */
  getValidatorFeeState(): GetValidatorFeeStateReply {
    return {
      excess: 0,
      price: Number(this.feeRate),
      timestamp: new Date(this.pchainNow()).toISOString(),
    };
  }

  /**
   * info.uptime on the node running `nodeId` (network/network.go NodeUptime): its own stake counts
   * 100 % and as rewarding; each connected peer validator — the others registered here plus the
   * background stake — measures it at the network view's uptime.
   */
  nodeUptime(nodeId: string): UptimeResult {
    const now = this.pchainNow();
    const primary = this.current(PRIMARY_NETWORK_ID, now);
    const me = primary.find((v) => v.nodeId === nodeId);
    if (!me) throw new RpcFailure("couldn't get node uptime: node is not a validator");
    const total = Number(primary.reduce((s, v) => s + v.weight, this.backgroundStake));
    const peers = Number(
      primary
        .filter((v) => v !== me && v.claimants > 0)
        .reduce((s, v) => s + v.weight, this.backgroundStake),
    );
    const mine = Number(me.weight);
    const up = this.uptime(me);
    const meets = up >= this.uptimeRequirement(me.startMs);
    return {
      weightedAveragePercentage: fmt((100 * mine + 100 * up * peers) / total),
      rewardingStakePercentage: fmt((100 * (mine + (meets ? peers : 0))) / total),
    };
  }

  /** Everything, for `GET /_sim/pchain/validators` (tests and humans; not an AvalancheGo API). */
  list(): Array<Record<string, unknown>> {
    const now = this.pchainNow();
    return this.validations.map((v) => ({
      txID: v.txID,
      nodeID: v.nodeId,
      subnetID: v.subnetId,
      ...(v.validationId ? { validationID: v.validationId } : {}),
      weight: v.weight.toString(),
      startTime: secs(v.startMs),
      ...(v.endMs !== null ? { endTime: secs(v.endMs) } : {}),
      current: v.startMs <= now && (v.endMs === null || now < v.endMs),
      uptime: fmt(this.uptime(v) * 100),
      upSeconds: Math.floor(v.upMs / 1000),
      claimants: v.claimants,
      uptimeRequirement: this.uptimeRequirement(v.startMs),
      ...(v.validationId ? { balance: this.balance(v, now).toString() } : {}),
    }));
  }
}

function credit(claimants: number): number {
  if (claimants === 0) return 0;
  return claimants === 1 ? 1 : DUPLICATE_UPTIME_CREDIT;
}

/** A JSON-RPC server error (-32000), as AvalancheGo answers a failed call. */
export class RpcFailure extends Error {}

/** Serves the P-chain API and info.uptime for the node running `selfNodeId`; null = not ours. */
export function handleNetworkRpc(
  view: NetworkView,
  route: string,
  selfNodeId: string,
  body: unknown,
): unknown {
  const req = jsonRpcRequestSchema.safeParse(body);
  if (!req.success)
    return rpcError(null, JSON_RPC_CODES.invalidRequest, 'invalid JSON-RPC request');
  const { id, method, params } = req.data;
  try {
    const result = call(view, route, selfNodeId, method, params);
    if (result === undefined) {
      return rpcError(
        id,
        JSON_RPC_CODES.methodNotFound,
        `the method ${method} does not exist/is not available`,
      );
    }
    return { jsonrpc: '2.0', id, result };
  } catch (err) {
    if (err instanceof z.ZodError) {
      return rpcError(id, JSON_RPC_CODES.invalidParams, z.prettifyError(err));
    }
    if (err instanceof RpcFailure) return rpcError(id, JSON_RPC_CODES.serverError, err.message);
    throw err;
  }
}

/** True when the network view, not the node's driver, answers this request. */
export function isNetworkRpc(route: string, body: unknown): boolean {
  if (route === NODE_PATHS.platform) return true;
  const method = (body as { method?: unknown } | null)?.method;
  return route === NODE_PATHS.info && method === 'info.uptime';
}

function call(
  view: NetworkView,
  route: string,
  self: string,
  method: string,
  params: unknown,
): unknown {
  if (route === NODE_PATHS.info)
    return method === 'info.uptime' ? view.nodeUptime(self) : undefined;
  switch (method) {
    case 'platform.getCurrentValidators':
      return view.getCurrentValidators(params);
    case 'platform.getL1Validator':
      return view.getL1Validator(params);
    case 'platform.getTimestamp':
      return view.getTimestamp();
    case 'platform.getValidatorFeeState':
      return view.getValidatorFeeState();
    default:
      return undefined;
  }
}

function rpcError(id: string | number | null, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/**
 * Looks at the ground truth the way `GET /_sim/nodes` does: every instance (and lingering guest)
 * whose host runs a node. Reachable = its zone is not partitioned and it has power.
 */
export async function collectClaims(state: SimState, only?: Set<string>): Promise<NodeClaim[]> {
  const entries = [
    ...[...state.instances.values()].map((i) => ({
      instanceId: i.instanceId,
      host: i.host,
      reachable: i.status === 'Running' && !i.powerLost && !state.isPartitioned(i.zoneId),
    })),
    ...[...state.lingering.values()].map((l) => ({
      instanceId: l.instanceId,
      host: l.host,
      reachable: !state.isPartitioned(l.zoneId),
    })),
  ];
  const claims = await Promise.all(
    entries.map(async (e): Promise<NodeClaim | null> => {
      if (!e.host?.report) return null;
      try {
        const r = await e.host.report();
        if (!r.running || !r.nodeId || (only && !only.has(r.nodeId))) return null;
        // A node whose version missed an activation is dropped by its peers: down for the network.
        const reachable = e.reachable && r.validating !== false;
        return { instanceId: e.instanceId, nodeId: r.nodeId, reachable };
      } catch {
        return null;
      }
    }),
  );
  return claims.filter((c): c is NodeClaim => c !== null);
}

/** Samples the ground truth into the view on the simulator's ticker: at most one look in flight. */
export class GroundTruthSampler {
  private inFlight = false;
  private last = 0;

  constructor(
    private readonly state: SimState,
    private readonly view: NetworkView,
    private readonly everyMs = 100,
  ) {}

  tick(): void {
    if (this.inFlight || this.view.size === 0) return;
    const now = this.state.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    this.inFlight = true;
    void this.sampleNow().finally(() => (this.inFlight = false));
  }

  async sampleNow(): Promise<void> {
    const claims = await collectClaims(this.state, this.view.nodeIds());
    this.view.sample(claims, this.state.now());
  }
}
