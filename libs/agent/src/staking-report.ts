import { z } from 'zod';
import {
  cb58IdSchema,
  jsonUint64Schema,
  NodeRpcError,
  type GetCurrentValidatorsParams,
  type GetCurrentValidatorsResult,
  type GetL1ValidatorResult,
  type GetValidatorFeeStateResult,
  type UptimeResult,
} from '@snowline/avalanche';

/**
 * The staking channel (`POST /v1/agent/staking`, signed like every protocol-2 call): every
 * `stakingReportSeconds` an agent tells the control plane what its node's P-chain says — of its own
 * validator (`info.uptime` and `platform.getCurrentValidators`) and of the NodeIDs the control plane
 * asked it to look up (other validators on its network, which is what survives their own node being
 * down). A channel apart from the lease, less often, so renewals stay small. The control plane
 * never talks to nodes; it learns the P-chain only from these reports.
 */

/** Most NodeIDs one report looks up: bounds a report (~250 bytes a validator) well under the body limit. */
export const STAKING_LOOKUP_MAX = 200;

const nodeIdSchema = z.string().regex(/^NodeID-[1-9A-HJ-NP-Za-km-z]{20,40}$/);
const percentSchema = z.number().min(0).max(100);

/** One current validator as the reporting node's P-chain lists it. */
export const stakedValidatorSchema = z.object({
  nodeId: nodeIdSchema,
  txId: z.string().min(1).max(64),
  /** Unix seconds, P-chain time. */
  startTime: z.number().int().nonnegative(),
  endTime: z.number().int().nonnegative(),
  /** nAVAX, decimal. */
  weight: z.string().regex(/^\d{1,30}$/),
  /** 0–100 as this node measured it (getCurrentValidators `uptime`); null when it measures none. */
  uptime: percentSchema.nullable(),
  connected: z.boolean().nullable(),
  /** ACP-236: an auto-renewed validator (it has a validatorAuthority). */
  autoRenew: z.boolean(),
});
export type StakedValidator = z.infer<typeof stakedValidatorSchema>;

/** Most L1s one node reports its own validator in (`track-subnets` takes at most 16). */
export const STAKING_L1_MAX = 16;

/** uint64 as AvalancheGo's JSON has it: at most 20 digits. */
const uint64 = jsonUint64Schema.max(20);

/**
 * The node's own L1 validator (ACP-77) in one L1 it tracks, as its P-chain has it:
 * platform.getCurrentValidators {subnetID, nodeIDs: [own]} and platform.getL1Validator.
 */
export const l1SelfReportSchema = z.object({
  subnetId: cb58IdSchema,
  nodeId: nodeIdSchema,
  /** The L1 lists the NodeID among its current validators. */
  registered: z.boolean(),
  validationId: cb58IdSchema.nullable(),
  /** nAVAX left for the continuous fee (getL1Validator `balance`); 0 once deactivated. */
  balance: uint64.nullable(),
  weight: uint64.nullable(),
  /** Unix seconds, P-chain time. */
  startTime: z.number().int().nonnegative().nullable(),
  /** platform.getValidatorFeeState `price`, nAVAX per second; null: the node did not say. */
  feePrice: uint64.nullable(),
});
export type L1SelfReport = z.infer<typeof l1SelfReportSchema>;

export const stakingReportRequestSchema = z.object({
  hostId: z.string().uuid(),
  /** The generation whose identity the node runs; null for a standby. */
  generation: z.number().int().nonnegative().nullable(),
  /** The NodeID the node runs (an assignment's, or a standby's throwaway one). */
  nodeId: nodeIdSchema.nullable(),
  /** The node's P-chain clock (platform.getTimestamp): every time in the report is in it. */
  pchainTime: z.string().datetime({ offset: true }),
  /** info.uptime of the node's own validator; null when it runs no assignment or is no validator. */
  self: z
    .object({
      rewardingStakePercentage: percentSchema,
      weightedAveragePercentage: percentSchema,
    })
    .nullable(),
  /** Every NodeID looked up; one missing from `validators` is not a current validator. */
  asked: z.array(nodeIdSchema).max(STAKING_LOOKUP_MAX + 1),
  validators: z.array(stakedValidatorSchema).max(STAKING_LOOKUP_MAX + 1),
  /** The node's own L1 validators, one per L1 it tracks; absent (an older agent, or none). */
  l1: z.array(l1SelfReportSchema).max(STAKING_L1_MAX).optional(),
});
export type StakingReportRequest = z.infer<typeof stakingReportRequestSchema>;

export const stakingReportResponseSchema = z.object({
  /** The NodeIDs to look up in the next report (besides the node's own validator). */
  lookup: z.array(nodeIdSchema).max(STAKING_LOOKUP_MAX),
  reportIntervalSeconds: z.number().positive(),
});
export type StakingReportResponse = z.infer<typeof stakingReportResponseSchema>;

/** The node calls a staking report needs: AvalancheNodeClient has them (and the simulator's nodes). */
export interface StakingNode {
  getTimestamp(): Promise<Date>;
  uptime(): Promise<UptimeResult>;
  getCurrentValidators(params: GetCurrentValidatorsParams): Promise<GetCurrentValidatorsResult>;
  getL1Validator(validationID: string): Promise<GetL1ValidatorResult>;
  getValidatorFeeState(): Promise<GetValidatorFeeStateResult>;
}

const pct = (s: string): number => Math.min(100, Math.max(0, Number(s)));

/**
 * Reads one staking report from the node. `ownNodeId`: the NodeID of the validator this host runs
 * (null for a standby), always looked up and asked `info.uptime`. A node that is no validator
 * answers info.uptime with an RPC error: that is "not registered", not a failure. Any other error
 * (the node unreachable, a bad answer) throws: no report is better than a wrong one.
 */
export async function readStakingReport(
  node: StakingNode,
  q: {
    hostId: string;
    generation: number | null;
    nodeId: string | null;
    ownNodeId: string | null;
    lookup: readonly string[];
    /** The L1s the node tracks (its node report's trackedSubnets): its own validator is read in each. */
    l1s?: readonly string[];
  },
): Promise<StakingReportRequest> {
  const asked = [...new Set([...(q.ownNodeId ? [q.ownNodeId] : []), ...q.lookup])].slice(
    0,
    STAKING_LOOKUP_MAX + 1,
  );
  const pchainTime = await node.getTimestamp();
  const u = q.ownNodeId ? await unlessRpcError(node.uptime()) : null;
  const self: StakingReportRequest['self'] = u
    ? {
        rewardingStakePercentage: pct(u.rewardingStakePercentage),
        weightedAveragePercentage: pct(u.weightedAveragePercentage),
      }
    : null;
  const wanted = new Set(asked);
  const validators: StakedValidator[] = [];
  if (asked.length) {
    const r = await node.getCurrentValidators({ nodeIDs: asked });
    for (const v of r.validators) {
      // Primary-network stakers only: an L1 validator has no end time and no txID.
      if (!('txID' in v) || !('endTime' in v) || !wanted.has(v.nodeID)) continue;
      validators.push({
        nodeId: v.nodeID,
        txId: v.txID,
        startTime: Number(v.startTime),
        endTime: Number(v.endTime),
        weight: v.weight,
        uptime: 'uptime' in v && v.uptime !== undefined ? pct(v.uptime) : null,
        connected: 'connected' in v && v.connected !== undefined ? v.connected : null,
        autoRenew: 'validatorAuthority' in v && v.validatorAuthority != null,
      });
    }
  }
  const l1 = q.ownNodeId && q.l1s?.length ? await readOwnL1s(node, q.ownNodeId, q.l1s) : undefined;
  return {
    hostId: q.hostId,
    generation: q.generation,
    nodeId: q.nodeId,
    pchainTime: pchainTime.toISOString(),
    self,
    asked,
    validators,
    ...(l1 ? { l1 } : {}),
  };
}

const NOT_LISTED = { validationId: null, balance: null, weight: null, startTime: null } as const;

/** A JSON-RPC error (an older node, an L1 it does not know): that answer is unknown, not "no". */
async function unlessRpcError<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof NodeRpcError) return null;
    throw err;
  }
}

/**
 * The node's own validator in each L1 it tracks. Listed by getCurrentValidators: its validationID,
 * then getL1Validator for the balance (0 once deactivated: vms/platformvm/service.go
 * convertL1ValidatorToAPI); not listed: not registered. The fee price once for all
 * (getValidatorFeeState). An L1 the node answers with an RPC error is left out: unknown.
 */
async function readOwnL1s(
  node: StakingNode,
  nodeId: string,
  subnets: readonly string[],
): Promise<L1SelfReport[]> {
  const feePrice = (await unlessRpcError(node.getValidatorFeeState()))?.price ?? null;
  const out: L1SelfReport[] = [];
  for (const subnetId of [...new Set(subnets)].slice(0, STAKING_L1_MAX)) {
    if (!cb58IdSchema.safeParse(subnetId).success) continue;
    const listed = await unlessRpcError(
      node.getCurrentValidators({ subnetID: subnetId, nodeIDs: [nodeId] }),
    );
    if (!listed) continue;
    const v = listed.validators.find((x) => x.nodeID === nodeId);
    const validationId = v && 'validationID' in v ? (v.validationID ?? null) : null;
    if (!v || !validationId) {
      // A permissioned subnet's validator has no validationID: not an L1 validation either.
      out.push({ ...NOT_LISTED, subnetId, nodeId, registered: false, feePrice });
      continue;
    }
    const got = await unlessRpcError(node.getL1Validator(validationId));
    // The validation's own record, unless it was removed between the two calls.
    const r = got && got.subnetID === subnetId && got.nodeID === nodeId ? got : null;
    const balance = r?.balance ?? ('balance' in v ? (v.balance ?? null) : null);
    // Listed, but no balance said: unknown rather than a guess.
    if (balance === null) continue;
    out.push({
      subnetId,
      nodeId,
      registered: true,
      validationId,
      balance,
      weight: r?.weight ?? v.weight,
      startTime: Number(r?.startTime ?? v.startTime),
      feePrice,
    });
  }
  return out;
}
