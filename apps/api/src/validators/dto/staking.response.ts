import { ApiProperty } from '@nestjs/swagger';
import { NETWORKS, STAKING_STATUSES } from '@snowline/domain';

// Response schemas only: the document and the generated client read them; staking.view builds the body.

const KNOWN_STATUSES = STAKING_STATUSES.filter((s) => s !== 'unknown');

export class StakingRequirementDto {
  @ApiProperty({ example: 0.9, description: 'the uptime (0–1) the period must reach' })
  value!: number;
  @ApiProperty({
    enum: ['helicon', 'pre_helicon'],
    description:
      '`helicon`: the stake started at or after its network’s Helicon activation (ACP-267, 90 %); `pre_helicon`: before it, or Helicon is not scheduled (the genesis requirement, 80 %)',
  })
  basis!: 'helicon' | 'pre_helicon';
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  heliconActivatesAt!: string | null;
  @ApiProperty({
    example:
      '90 %: the stake started 2026-11-30T10:00:00.000Z, at or after Helicon on fuji (2026-07-28T15:00:00.000Z; ACP-267)',
  })
  reason!: string;
}

export class StakingUptimeDto {
  @ApiProperty({ example: 0.9987, description: '0–1, since the stake’s start' }) value!: number;
  @ApiProperty({
    enum: ['peer', 'self'],
    description:
      '`peer`: as other nodes measure it (standbys and other validators’ nodes, the median of them); `self`: only its own node’s `info.uptime` answered (its peers’ weighted view, but not independent of it)',
  })
  source!: 'peer' | 'self';
  @ApiProperty({ type: 'integer', description: 'how many observations the figure rests on' })
  observers!: number;
}

export class StakingBudgetDto {
  @ApiProperty({
    type: 'integer',
    example: 17280,
    description: '(1 − requirement) × stake duration',
  })
  totalSeconds!: number;
  @ApiProperty({
    type: 'integer',
    example: 310,
    description: '(1 − uptime) × time since the start, as the network measured it',
  })
  usedSeconds!: number;
  @ApiProperty({
    type: 'integer',
    example: 16970,
    description: 'total − used; below 0 the period’s reward is lost',
  })
  leftSeconds!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.982,
    description: 'left ÷ total (below 0: lost); null when the total is 0',
  })
  leftFraction!: number | null;
}

export class StakingL1Dto {
  @ApiProperty({ example: '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r' })
  subnetId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'the ACP-77 validation id' })
  validationId!: string | null;
  @ApiProperty({
    example: '619315200000',
    description:
      'nAVAX left for the continuous fee (platform.getL1Validator `balance`), as of `pchainTime`; 0 once deactivated',
  })
  balance!: string;
  @ApiProperty({ example: '512', description: 'nAVAX per second the days are counted at' })
  feePrice!: string;
  @ApiProperty({
    enum: ['node', 'minimum'],
    description:
      '`node`: the P-chain’s current price as the node read it (platform.getValidatorFeeState); `minimum`: no node said, the network’s MinPrice assumed',
  })
  feeSource!: 'node' | 'minimum';
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 14,
    description:
      'days of fee the balance pays at `feePrice` (balance ÷ price, in whole seconds); a higher price later shortens it; null: no fee is charged',
  })
  daysLeft!: number | null;
  @ApiProperty({ description: 'false once the balance is spent: the P-chain deactivated it' })
  active!: boolean;
  @ApiProperty({ description: 'fewer than `lowBelowDays` days left (`l1.balance_low`)' })
  low!: boolean;
  @ApiProperty({ example: 14, description: 'L1_BALANCE_LOW_DAYS' })
  lowBelowDays!: number;
}

/** What one view says: current (on the block) or the last known (in `lastKnown`). */
export class StakingFiguresDto {
  @ApiProperty({ enum: KNOWN_STATUSES }) status!: (typeof KNOWN_STATUSES)[number];
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'the P-chain time the figures are as of (nodes’ platform.getTimestamp)',
  })
  pchainTime!: string | null;
  @ApiProperty({ type: Boolean, nullable: true }) registered!: boolean | null;
  @ApiProperty({ type: String, nullable: true, description: 'the staking transaction' })
  txId!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startTime!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endTime!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '2000000000000',
    description: 'nAVAX, a decimal string',
  })
  weight!: string | null;
  @ApiProperty({ type: Boolean, nullable: true, description: 'ACP-236 auto-renewed staking' })
  autoRenew!: boolean | null;
  @ApiProperty({ type: StakingRequirementDto, nullable: true })
  requirement!: StakingRequirementDto | null;
  @ApiProperty({
    type: StakingUptimeDto,
    nullable: true,
    description: 'null: nobody measures it (not registered, or an L1 validator)',
  })
  uptime!: StakingUptimeDto | null;
  @ApiProperty({ type: StakingBudgetDto, nullable: true }) budget!: StakingBudgetDto | null;
  @ApiProperty({
    enum: ['on_track', 'at_risk', 'lost'],
    nullable: true,
    description:
      '`at_risk`: less than STAKING_AT_RISK_BUDGET_PERCENT of the budget left; null: no budget',
  })
  reward!: 'on_track' | 'at_risk' | 'lost' | null;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'less than STAKING_PERIOD_ENDING_HOURS left (at most a quarter of the period)',
  })
  periodEnding!: boolean | null;
  @ApiProperty({
    type: StakingL1Dto,
    nullable: true,
    description: 'an L1 validator’s balance and days of fee left; null otherwise',
  })
  l1!: StakingL1Dto | null;
}

export class StakingDto {
  @ApiProperty({
    enum: STAKING_STATUSES,
    description:
      '`unknown`: no observation newer than `staleAfterSeconds` (or none ever): every figure is null and `lastKnown` holds the last ones, beside `ageSeconds`',
  })
  status!: (typeof STAKING_STATUSES)[number];
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'when the newest observation the view rests on arrived; null: never observed',
  })
  observedAt!: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'the view’s age; null: never' })
  ageSeconds!: number | null;
  @ApiProperty({ type: 'integer', description: 'older than this, the view is `unknown`' })
  staleAfterSeconds!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) pchainTime!: string | null;
  @ApiProperty({ type: Boolean, nullable: true }) registered!: boolean | null;
  @ApiProperty({ type: String, nullable: true }) txId!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startTime!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endTime!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'nAVAX' }) weight!: string | null;
  @ApiProperty({ type: Boolean, nullable: true }) autoRenew!: boolean | null;
  @ApiProperty({ type: StakingRequirementDto, nullable: true })
  requirement!: StakingRequirementDto | null;
  @ApiProperty({ type: StakingUptimeDto, nullable: true }) uptime!: StakingUptimeDto | null;
  @ApiProperty({ type: StakingBudgetDto, nullable: true }) budget!: StakingBudgetDto | null;
  @ApiProperty({ enum: ['on_track', 'at_risk', 'lost'], nullable: true })
  reward!: 'on_track' | 'at_risk' | 'lost' | null;
  @ApiProperty({ type: Boolean, nullable: true }) periodEnding!: boolean | null;
  @ApiProperty({
    type: StakingL1Dto,
    nullable: true,
    description:
      'an L1 validator’s balance, fee price and days of fee left; null for the primary network, and when `unknown` (then in `lastKnown`, beside `ageSeconds`)',
  })
  l1!: StakingL1Dto | null;
  @ApiProperty({
    type: StakingFiguresDto,
    nullable: true,
    description: 'when `unknown`: what the last view said, as of `observedAt`; else null',
  })
  lastKnown!: StakingFiguresDto | null;
}

export class StakingRegistrationDto {
  @ApiProperty({
    example: 'AddPermissionlessValidatorTx',
    description:
      'the P-chain transaction that registers it (ACP-236: AddAutoRenewedValidatorTx; an L1 validator: RegisterL1ValidatorTx, ACP-77)',
  })
  transaction!: string;
  @ApiProperty({ enum: NETWORKS }) network!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null until the identity exists' })
  nodeId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: '48-byte compressed, 0x hex' })
  blsPublicKey!: string | null;
  @ApiProperty({ type: String, nullable: true, description: '96-byte signature, 0x hex' })
  proofOfPossession!: string | null;
  @ApiProperty({
    format: 'date-time',
    description:
      'the time the durations and requirement are judged at (the P-chain applies them when it accepts the transaction, which is the stake’s start)',
  })
  rulesAt!: string;
  @ApiProperty({ type: 'integer', example: 43200 }) minStakeDurationSeconds!: number;
  @ApiProperty({ type: 'integer', example: 31536000 }) maxStakeDurationSeconds!: number;
  @ApiProperty({ example: '1000000000', description: 'nAVAX, a decimal string' })
  minStake!: string;
  @ApiProperty({ example: '3000000000000000', description: 'nAVAX, a decimal string' })
  maxStake!: string;
  @ApiProperty({ example: 0.9, description: 'the requirement of a stake starting at `rulesAt`' })
  uptimeRequirement!: number;
  @ApiProperty() heliconActive!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  heliconActivatesAt!: string | null;
  @ApiProperty({ description: 'where the values come from' }) source!: string;
}

export class ValidatorStakingDto {
  @ApiProperty({ format: 'uuid' }) validatorId!: string;
  @ApiProperty({ example: 'fuji-a' }) name!: string;
  @ApiProperty({ format: 'date-time' }) checkedAt!: string;
  @ApiProperty({ type: StakingDto }) staking!: StakingDto;
  @ApiProperty({ type: StakingRegistrationDto }) registration!: StakingRegistrationDto;
}
