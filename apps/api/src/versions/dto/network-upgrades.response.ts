import { ApiProperty } from '@nestjs/swagger';
import { NETWORKS } from '@snowline/domain';

// Response schemas only: the document and the generated client read them.

export class ValidatorAtRiskDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'fuji-a' }) name!: string;
  @ApiProperty({ example: '1.14.2', description: 'the version its spec asks for' })
  version!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: unknown' })
  runningVersion!: string | null;
  @ApiProperty({
    enum: ['spec', 'running'],
    description: '`spec`: the spec names an outdated version; `running`: its host lags the spec',
  })
  cause!: 'spec' | 'running';
  @ApiProperty() message!: string;
}

export class NetworkUpgradeDto {
  @ApiProperty({ enum: NETWORKS }) network!: string;
  @ApiProperty({ example: 'Helicon' }) name!: string;
  @ApiProperty({ format: 'date-time' }) activatesAt!: string;
  @ApiProperty({ example: '1.15.0' }) minVersion!: string;
  @ApiProperty() source!: string;
  @ApiProperty({ description: 'the activation is within UPGRADE_WARNING_DAYS' }) warning!: boolean;
  @ApiProperty({ type: [ValidatorAtRiskDto] }) validatorsAtRisk!: ValidatorAtRiskDto[];
  @ApiProperty({ type: 'integer', description: 'validators whose running version is unknown' })
  validatorsUnknown!: number;
}

export class NetworkUpgradesDto {
  @ApiProperty({ type: [NetworkUpgradeDto] }) items!: NetworkUpgradeDto[];
  @ApiProperty({ type: 'number', example: 30 }) warningDays!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { fuji: '1.15.3', mainnet: '1.15.3', local: '1.15.3' },
    description: 'the version a spec that names none gets, per network (AVALANCHEGO_VERSION)',
  })
  defaultVersions!: Record<string, string>;
  @ApiProperty({
    type: [String],
    example: ['1.15.2', '1.15.3'],
    description: 'versions with a pinned release (AVALANCHEGO_RELEASES): what a spec may name',
  })
  releases!: string[];
}
