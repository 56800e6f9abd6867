import { ApiProperty } from '@nestjs/swagger';
import { VALIDATOR_STATES, type ValidatorState } from '@snowline/domain';

// Response schemas only: the document and the generated client read them; ZonesController builds the body.

export const ZONE_STATUSES = ['healthy', 'impaired', 'dark', 'unknown'] as const;

export class ZoneDto {
  @ApiProperty({ example: 'cn-hongkong-b' }) id!: string;
  @ApiProperty({
    enum: ZONE_STATUSES,
    description: '`unknown`: the health loop has never observed it',
  })
  status!: (typeof ZONE_STATUSES)[number];
  @ApiProperty({ type: Boolean, nullable: true, description: 'null: never observed' })
  placementAllowed!: boolean | null;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) statusSince!: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) hosts!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) unhealthyHosts!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) standbys!: number | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'instance type → the cloud’s stock category in this zone',
  })
  stock!: Record<string, string>;
  @ApiProperty({ type: 'integer', description: 'the caller’s validators placed here' })
  validators!: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) openIncidentId!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastObservedAt!: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) observedAgeSeconds!: number | null;
}

export class ZoneListDto {
  @ApiProperty({ type: [ZoneDto] }) items!: ZoneDto[];
}

export class AffectedValidatorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: VALIDATOR_STATES }) state!: ValidatorState;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'where it runs now; null once retired',
  })
  zone!: string | null;
  @ApiProperty({ type: String, nullable: true }) instanceId!: string | null;
}

export class IncidentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: the control plane itself' })
  zone!: string | null;
  @ApiProperty({ example: 'zone-impaired' }) kind!: string;
  @ApiProperty({ example: 'critical' }) severity!: string;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: 'open' | 'closed';
  @ApiProperty() summary!: string;
  @ApiProperty({ type: [String], description: 'the caller’s validators it affected' })
  affectedValidators!: string[];
  @ApiProperty({ type: [AffectedValidatorDto] }) affected!: AffectedValidatorDto[];
  @ApiProperty({ format: 'date-time' }) openedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) closedAt!: string | null;
}

export class IncidentListDto {
  @ApiProperty({ type: [IncidentDto] }) items!: IncidentDto[];
}
