import { ApiProperty } from '@nestjs/swagger';
import { NETWORKS } from '@snowline/domain';

// Response schemas only: the document and the generated client read them; StandbyPoolsService builds the body.

export class StandbyPoolSettingDto {
  @ApiProperty({ enum: NETWORKS }) network!: string;
  @ApiProperty({ example: 'cn-hongkong-b' }) zone!: string;
  @ApiProperty({ type: 'integer' }) size!: number;
  @ApiProperty({ example: 'key 1a2b3c4d' }) updatedBy!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class StandbyPoolsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'STANDBY_POOL: network → standbys per zone when no setting says otherwise',
  })
  defaults!: Record<string, number>;
  @ApiProperty({ type: [String] }) zones!: string[];
  @ApiProperty({ type: [StandbyPoolSettingDto] }) settings!: StandbyPoolSettingDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
    description: 'network → zone → the standbys the worker keeps',
  })
  effective!: Record<string, Record<string, number>>;
}
