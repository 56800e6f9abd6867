import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { registrationRules, stakingRulesFor, type Network } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { isoTime } from '../common/iso-time';
import { notFound } from '../common/problem';
import { stakingBlock, type StakingBlock, type StakingReadContext } from './staking.view';

/**
 * Where each figure of a new validation's rules comes from (checked at these tags; libs/domain
 * staking.ts STAKING_RULES holds the values).
 */
const RULES_SOURCE =
  'ava-labs/avalanchego v1.15.0-fuji: genesis/genesis_{mainnet,fuji,local}.go StakingConfig (MinValidatorStake, MaxValidatorStake, MinStakeDuration, HeliconMinStakeDuration, MaxStakeDuration); vms/platformvm/txs/executor/staker_tx_verification_helpers.go (the Helicon minimum applies from activation, by chain time); ACP-267 (90 % from Helicon); Helicon dates: the network-upgrade calendar (GET /v1/network-upgrades)';

/** The read side of a validator's staking: its `staking` block and its registration inputs. */
@Injectable()
export class ValidatorStakingService {
  readonly ctx: StakingReadContext;

  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = {
      staleAfterMs: config.staking.staleAfterSeconds * 1000,
      // The worker judges by the same calendar: one Helicon date for both.
      rules: stakingRulesFor(config.avalanchego.calendar),
      l1BalanceLowDays: config.staking.l1BalanceLowDays,
    };
  }

  /** The `staking` blocks of these validators, in one query. */
  async blocks(validators: { id: string; network: Network }[]): Promise<Map<string, StakingBlock>> {
    const stored = await this.repos.staking.viewsOf(validators.map((v) => v.id));
    return new Map(
      validators.map((v) => [v.id, stakingBlock(stored.get(v.id) ?? null, v.network, this.ctx)]),
    );
  }

  /** A block for a validator that has no stored view (just created). */
  none(network: Network): StakingBlock {
    return stakingBlock(null, network, this.ctx);
  }

  /** `GET /v1/validators/:id/staking`: the block and what the staking transaction needs. */
  async get(projectId: string, id: string) {
    const v = await this.repos.validators.findForProjectWithIdentity(projectId, id);
    if (!v) throw notFound('Validator', id);
    const staking = (await this.blocks([v])).get(v.id)!;
    const now = Date.now();
    const r = registrationRules(v.network, now, this.ctx.rules);
    return {
      validatorId: v.id,
      name: v.name,
      checkedAt: isoTime(new Date(now)),
      staking,
      registration: {
        // ACP-77: an L1's validator is registered by RegisterL1ValidatorTx, with a fee balance.
        transaction: v.subnetId ? 'RegisterL1ValidatorTx' : 'AddPermissionlessValidatorTx',
        network: v.network,
        nodeId: v.nodeId,
        blsPublicKey: v.identity?.blsPublicKey ?? null,
        proofOfPossession: v.identity?.proofOfPossession ?? null,
        rulesAt: isoTime(new Date(r.atMs)),
        minStakeDurationSeconds: r.minStakeDurationMs / 1000,
        maxStakeDurationSeconds: r.maxStakeDurationMs / 1000,
        minStake: r.minStake.toString(),
        maxStake: r.maxStake.toString(),
        uptimeRequirement: r.uptimeRequirement,
        heliconActive: r.heliconActive,
        heliconActivatesAt: r.heliconTime === null ? null : isoTime(new Date(r.heliconTime)),
        source: RULES_SOURCE,
      },
    };
  }
}
