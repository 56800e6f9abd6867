import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  STAKING_LOOKUP_MAX,
  type StakingReportRequest,
  type StakingReportResponse,
} from '@snowline/agent';
import { Repositories, type NewStakingObservation } from '@snowline/persistence';

/**
 * `POST /v1/agent/staking`: stores what a host's node said of staking (libs/agent
 * staking-report.ts) and answers which NodeIDs to look up next (the worker's assignment). Only the
 * NodeIDs it was asked about, and its own validator's, are believed: a host cannot speak for any
 * validator it likes. Its own validator counts as `self` only while it holds the current generation.
 * Of the `l1` list only its own validator in its own L1 is kept: no host writes another validator's
 * balance, nor its own in an L1 it does not validate.
 */
@Injectable()
export class StakingReportService {
  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async report(hostId: string, req: StakingReportRequest): Promise<StakingReportResponse> {
    const reportIntervalSeconds = this.config.staking.reportSeconds;
    const host = await this.repos.staking.reporter(hostId);
    if (!host || host.retired || !host.network) return { lookup: [], reportIntervalSeconds };
    const own =
      host.ownNodeId !== null &&
      req.nodeId === host.ownNodeId &&
      req.generation === host.ownGeneration
        ? host.ownNodeId
        : null;
    const allowed = new Set(host.lookup);
    if (own) allowed.add(own);
    const pchainTime = Date.parse(req.pchainTime);
    const listed = new Map(req.validators.map((v) => [v.nodeId, v]));
    const rows = [...new Set(req.asked)]
      .filter((id) => allowed.has(id))
      .map((nodeId): NewStakingObservation => {
        const v = listed.get(nodeId);
        const self = nodeId === own;
        return {
          nodeId,
          subnetId: null,
          kind: self ? 'self' : 'peer',
          pchainTime,
          // Asked and not listed: the node's P-chain has no current validator by that NodeID.
          registered: v !== undefined,
          stake: v
            ? {
                txId: v.txId,
                startMs: v.startTime * 1000,
                endMs: v.endTime * 1000,
                weight: v.weight,
                autoRenew: v.autoRenew,
              }
            : null,
          uptime: v?.uptime == null ? null : v.uptime / 100,
          connected: v?.connected ?? null,
          rewardingStakePercent: self ? (req.self?.rewardingStakePercentage ?? null) : null,
          weightedAveragePercent: self ? (req.self?.weightedAveragePercentage ?? null) : null,
        };
      });
    rows.push(...ownL1Rows(req, own ? host.ownSubnetId : null, own, pchainTime));
    await this.repos.staking.replaceObservations(hostId, host.network, rows);
    return { lookup: host.lookup.slice(0, STAKING_LOOKUP_MAX), reportIntervalSeconds };
  }
}

/** The report's L1 entry for the host's own validator in its validator's L1, as a row; else none. */
function ownL1Rows(
  req: StakingReportRequest,
  subnetId: string | null,
  own: string | null,
  pchainTime: number,
): NewStakingObservation[] {
  if (!own || !subnetId) return [];
  const e = req.l1?.find((x) => x.nodeId === own && x.subnetId === subnetId);
  if (!e) return [];
  // Registered needs its start and balance (the table's check, and evaluateL1Staking's reading).
  const registered = e.registered && e.balance !== null && e.startTime !== null;
  return [
    {
      nodeId: own,
      subnetId,
      kind: 'self',
      pchainTime,
      registered,
      stake: null,
      uptime: null,
      connected: null,
      rewardingStakePercent: null,
      weightedAveragePercent: null,
      l1: registered
        ? {
            validationId: e.validationId,
            balance: e.balance,
            weight: e.weight,
            startMs: e.startTime! * 1000,
            feePrice: e.feePrice,
          }
        : { validationId: null, balance: null, weight: null, startMs: null, feePrice: e.feePrice },
    },
  ];
}
