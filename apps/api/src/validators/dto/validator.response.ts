import { ApiProperty } from '@nestjs/swagger';
import { NETWORKS, UPGRADE_POLICIES, VALIDATOR_STATES } from '@snowline/domain';
import { StakingDto } from './staking.response';

// Response schemas only: the document and the generated client read them; validatorView builds the body.

export class ValidatorHealthDto {
  @ApiProperty({ example: 'healthy' }) state!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) healthSince!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastReportAt!: string | null;
}

export class NextUpgradeDto {
  @ApiProperty({ enum: NETWORKS }) network!: string;
  @ApiProperty({ example: 'Helicon' }) name!: string;
  @ApiProperty({ format: 'date-time' }) activatesAt!: string;
  @ApiProperty({ example: '1.15.0', description: 'nodes below it stop validating at activation' })
  minVersion!: string;
  @ApiProperty({ description: 'where the date and version were published' }) source!: string;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'whether the spec’s version and the running one survive it; null: the running version is unknown',
  })
  survives!: boolean | null;
  @ApiProperty({
    description: 'it will not survive, and the activation is within UPGRADE_WARNING_DAYS',
  })
  warning!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'what to do, when it will not survive',
  })
  message!: string | null;
}

export class ValidatorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'fuji-a' }) name!: string;
  @ApiProperty({ enum: NETWORKS }) network!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description:
      'the L1 (subnet id) it validates, an L1 validator (ACP-77); null: the primary network',
  })
  subnetId!: string | null;
  @ApiProperty({ enum: VALIDATOR_STATES }) state!: (typeof VALIDATOR_STATES)[number];
  @ApiProperty({ type: String, nullable: true }) stateReason!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null until the identity exists' })
  nodeId!: string | null;
  @ApiProperty({ type: String, nullable: true }) blsPublicKey!: string | null;
  @ApiProperty({ type: String, nullable: true }) proofOfPossession!: string | null;
  @ApiProperty({ enum: ['imported', 'generated'] }) identitySource!: 'imported' | 'generated';
  @ApiProperty({ example: 'ecs.g7.2xlarge' }) instanceType!: string;
  @ApiProperty({ type: [String], description: 'allowed zones; empty: any' }) zones!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'null when nothing runs it' })
  zone!: string | null;
  @ApiProperty({ type: String, nullable: true }) instanceId!: string | null;
  @ApiProperty({
    type: ValidatorHealthDto,
    nullable: true,
    description: 'the current host’s verdict; null when nothing runs it',
  })
  health!: ValidatorHealthDto | null;
  @ApiProperty({ type: 'integer' }) generation!: number;
  @ApiProperty({
    example: '1.15.3',
    description: 'the AvalancheGo version the spec asks for (the fleet default when it named none)',
  })
  version!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '1.15.3',
    description:
      'the version its current host’s agent reports; null: unknown (nothing runs it, no report, or an agent too old to say)',
  })
  runningVersion!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  runningVersionObservedAt!: string | null;
  @ApiProperty({
    enum: UPGRADE_POLICIES,
    description:
      '`before-deadline`: Snowline gives it a surviving version UPGRADE_AUTO_DAYS before an activation it would not survive, and rolls it onto it',
  })
  upgradePolicy!: (typeof UPGRADE_POLICIES)[number];
  @ApiProperty({
    type: NextUpgradeDto,
    nullable: true,
    description: 'its network’s next activation; null: none scheduled',
  })
  nextUpgrade!: NextUpgradeDto | null;
  @ApiProperty({
    type: StakingDto,
    description:
      'the network’s view of its staking (registration, requirement, uptime, downtime budget), as the worker last judged it from its nodes’ reports; `unknown` (with `lastKnown` and `ageSeconds`) when that view is stale or was never made',
  })
  staking!: StakingDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;
  @ApiProperty() protected!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) activeAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) retiredAt!: string | null;
}

export class ValidatorPageDto {
  @ApiProperty({ type: [ValidatorDto] }) items!: ValidatorDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `cursor`; null: last page' })
  nextCursor!: string | null;
}
