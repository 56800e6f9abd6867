import { ApiProperty } from '@nestjs/swagger';
import { VALIDATOR_STATES } from '@snowline/domain';

// Response schemas only: the document and the generated client read them; the service builds the body.

export class HostCheckDto {
  @ApiProperty({ example: 'verdict' }) name!: string;
  @ApiProperty({ example: 'Health verdict' }) label!: string;
  @ApiProperty({ enum: ['pass', 'warn', 'fail', 'unknown'] })
  status!: 'pass' | 'warn' | 'fail' | 'unknown';
  @ApiProperty({ type: String, nullable: true, description: 'null: not known now' })
  value!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastKnown!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) observedAt!: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'age at `checkedAt`' })
  ageSeconds!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) staleAfterSeconds!: number | null;
  @ApiProperty() detail!: string;
}

export class CurrentHostHealthDto {
  @ApiProperty({ format: 'uuid' }) hostId!: string;
  @ApiProperty() zone!: string;
  @ApiProperty({ type: String, nullable: true }) instanceId!: string | null;
  @ApiProperty({ type: [HostCheckDto] }) checks!: HostCheckDto[];
}

export class HostVerdictDto {
  @ApiProperty({ example: 'healthy' }) state!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) since!: string | null;
}

export class HostRecordDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() zone!: string;
  @ApiProperty({ type: String, nullable: true }) instanceId!: string | null;
  @ApiProperty() instanceType!: string;
  @ApiProperty({ enum: ['assigned', 'standby'] }) role!: 'assigned' | 'standby';
  @ApiProperty({ type: 'integer', nullable: true }) generation!: number | null;
  @ApiProperty({ enum: ['current', 'starting', 'replaced', 'retired', 'ended'] })
  status!: 'current' | 'starting' | 'replaced' | 'retired' | 'ended';
  @ApiProperty({ format: 'date-time' }) launchedAt!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) registeredAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) endReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deletedAt!: string | null;
  @ApiProperty() deletionPending!: boolean;
  @ApiProperty() fenced!: boolean;
  @ApiProperty({ type: HostVerdictDto }) lastVerdict!: HostVerdictDto;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastReportAt!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '1.15.3',
    description: 'the AvalancheGo release its UserData named; null: a host from before versions',
  })
  version!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '1.15.3',
    description: 'the version its agent reported (as of lastReportAt); null: unknown',
  })
  runningVersion!: string | null;
}

export class ValidatorHostsDto {
  @ApiProperty({ format: 'uuid' }) validatorId!: string;
  @ApiProperty({ enum: VALIDATOR_STATES }) state!: (typeof VALIDATOR_STATES)[number];
  @ApiProperty({ type: 'integer' }) generation!: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) currentHostId!: string | null;
  @ApiProperty({ format: 'date-time' }) checkedAt!: string;
  @ApiProperty({
    type: CurrentHostHealthDto,
    nullable: true,
    description: 'null without a current host',
  })
  health!: CurrentHostHealthDto | null;
  @ApiProperty({ type: [HostRecordDto] }) items!: HostRecordDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
