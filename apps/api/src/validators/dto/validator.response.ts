import { ApiProperty } from '@nestjs/swagger';
import { NETWORKS, VALIDATOR_STATES } from '@snowline/domain';

// Response schemas only: the document and the generated client read them; validatorView builds the body.

export class ValidatorHealthDto {
  @ApiProperty({ example: 'healthy' }) state!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) healthSince!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastReportAt!: string | null;
}

export class ValidatorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'fuji-a' }) name!: string;
  @ApiProperty({ enum: NETWORKS }) network!: string;
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
