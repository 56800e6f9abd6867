import { ApiPropertyOptional } from '@nestjs/swagger';
import { UPGRADE_POLICIES, type UpgradePolicy } from '@snowline/domain';
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
} from 'class-validator';

/** PATCH: only the fields given change. */
export class UpdateValidatorDto {
  @ApiPropertyOptional({ example: 'fuji-main' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    message:
      'name must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  name?: string;

  @ApiPropertyOptional({
    example: { team: 'core', env: 'prod' },
    description: 'Replaces every label.',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject({ message: 'labels must be an object of string values' })
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    example: ['cn-hongkong-b', 'cn-hongkong-c'],
    description: 'Allowed zones for future placements and failovers (empty: any).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  zones?: string[];

  @ApiPropertyOptional({ description: 'A protected validator cannot be deleted.', example: true })
  @IsOptional()
  @IsBoolean({ message: 'protected must be true or false' })
  protected?: boolean;

  @ApiPropertyOptional({
    example: '1.15.3',
    description:
      'AvalancheGo version (one with a pinned release, AVALANCHEGO_RELEASES). Changing it rolls the validator onto it: a planned move onto a synced standby of that version, never a restart in place; rolled back (and the rollout to it halted) if its node does not come up in UPGRADE_MOVE_DEADLINE_SECONDS.',
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
    type: String,
    nullable: true,
    example: '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r',
    description:
      'The L1 it validates cannot change in place (its registration and its node’s synced chains are that L1’s): the same value (or null for a primary-network validator) is accepted as a no-op, another is refused with 409. Create a new validator for another L1, or change it in snowline.yaml, whose plan replaces the validator.',
  })
  @IsOptional()
  @IsString({ message: 'subnetId must be a string: the L1’s subnet id (cb58)' })
  @MaxLength(100)
  subnetId?: string | null;
}
