import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { NETWORKS, UPGRADE_POLICIES, type Network, type UpgradePolicy } from '@snowline/domain';

export class IdentityImportDto {
  @ApiProperty({ description: 'staker.crt (PEM)' })
  @IsString()
  @MaxLength(8192)
  stakerCrt!: string;

  @ApiProperty({ description: 'staker.key (PEM). Write-only: never returned.', writeOnly: true })
  @IsString()
  @MaxLength(8192)
  stakerKey!: string;

  @ApiProperty({
    description: 'signer.key: base64 of the raw 32-byte BLS secret. Write-only.',
    writeOnly: true,
  })
  @IsString()
  @MaxLength(128)
  signerKey!: string;
}

export class CreateValidatorDto {
  @ApiProperty({ enum: NETWORKS, example: 'fuji' })
  @IsIn(NETWORKS as unknown as string[], {
    message: `network must be one of: ${NETWORKS.join(', ')}`,
  })
  network!: Network;

  @ApiPropertyOptional({
    example: 'fuji-1',
    description: 'Unique among the project’s live validators.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    message:
      'name must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  name?: string;

  @ApiPropertyOptional({ example: 'ecs.g7.2xlarge' })
  @IsOptional()
  @IsString()
  @Matches(/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/, {
    message: 'instanceType must look like ecs.g7.2xlarge',
  })
  instanceType?: string;

  @ApiPropertyOptional({
    example: ['cn-hongkong-b', 'cn-hongkong-c'],
    description: 'Allowed zones (default: all).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  zones?: string[];

  @ApiPropertyOptional({
    example: { team: 'core' },
    description: 'Labels (≤ 32; keys a-z0-9._/-).',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject({ message: 'labels must be an object of string values' })
  labels?: Record<string, string>;

  @ApiPropertyOptional({ description: 'A protected validator cannot be deleted.', example: false })
  @IsOptional()
  @IsBoolean({ message: 'protected must be true or false' })
  protected?: boolean;

  @ApiPropertyOptional({
    example: '1.15.3',
    description:
      'AvalancheGo version (one with a pinned release, AVALANCHEGO_RELEASES); default: AVALANCHEGO_VERSION for its network.',
  })
  @IsOptional()
  @IsString({ message: 'version must be a string like 1.15.3' })
  @MaxLength(64)
  version?: string;

  @ApiPropertyOptional({
    enum: UPGRADE_POLICIES,
    example: 'before-deadline',
    description:
      '`before-deadline`: UPGRADE_AUTO_DAYS before a network upgrade it would not survive, Snowline gives it a version that survives (inside UPGRADE_WINDOW_UTC) and rolls it onto it. Default `manual`: warned only.',
  })
  @IsOptional()
  @IsIn(UPGRADE_POLICIES as unknown as string[], {
    message: `upgrade must be one of: ${UPGRADE_POLICIES.join(', ')}`,
  })
  upgrade?: UpgradePolicy;

  @ApiPropertyOptional({
    example: '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r',
    description:
      'An L1 validator (ACP-77): the subnet id of the L1 it validates (cb58, as AvalancheGo prints ids). Its node tracks that L1 (`track-subnets`), its balance and days of fee left are tracked, and it fails over only onto standbys tracking it. Absent: a primary-network validator. It cannot change later.',
  })
  @IsOptional()
  @IsString({ message: 'subnetId must be a string: the L1’s subnet id (cb58)' })
  @MaxLength(100)
  subnetId?: string;

  @ApiPropertyOptional({
    type: IdentityImportDto,
    description: 'Import an existing staking identity.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdentityImportDto)
  identity?: IdentityImportDto;
}
