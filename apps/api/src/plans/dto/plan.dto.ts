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
import {
  INSTANCE_TYPE_RE,
  MAX_VALIDATORS,
  NAME_RE,
  NETWORKS,
  NODE_ID_RE,
  type Network,
} from '@snowline/domain';

export class DesiredIdentityDto {
  @ApiProperty({
    example: 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg',
    description: 'NodeID of the identity to import (the CLI derives it from staker.crt).',
  })
  @Matches(NODE_ID_RE, { message: 'identity.nodeId must be a NodeID-… string' })
  nodeId!: string;
}

/** One validator as snowline.yaml declares it; no key material (that travels with apply). */
export class DesiredValidatorDto {
  @ApiProperty({ example: 'fuji-a' })
  @IsString()
  @Matches(NAME_RE, {
    message:
      'name must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  name!: string;

  @ApiProperty({ enum: NETWORKS, example: 'fuji' })
  @IsIn(NETWORKS as unknown as string[], {
    message: `network must be one of: ${NETWORKS.join(', ')}`,
  })
  network!: Network;

  @ApiPropertyOptional({ example: 'ecs.g7.2xlarge' })
  @IsOptional()
  @IsString()
  @Matches(INSTANCE_TYPE_RE, { message: 'instanceType must look like ecs.g7.2xlarge' })
  instanceType?: string;

  @ApiPropertyOptional({ example: ['cn-hongkong-b'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  zones?: string[];

  @ApiPropertyOptional({
    example: { team: 'core' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject({ message: 'labels must be an object of string values' })
  labels?: Record<string, string>;

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean({ message: 'preventDestroy must be true or false' })
  preventDestroy?: boolean;

  @ApiPropertyOptional({ type: DesiredIdentityDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DesiredIdentityDto)
  identity?: DesiredIdentityDto;
}

export class CreatePlanDto {
  @ApiPropertyOptional({
    enum: ['apply', 'destroy'],
    description: '`destroy` plans the deletion of the validators the file names.',
  })
  @IsOptional()
  @IsIn(['apply', 'destroy'], { message: 'mode must be apply or destroy' })
  mode?: 'apply' | 'destroy';

  @ApiProperty({ type: [DesiredValidatorDto] })
  @IsArray()
  @ArrayMaxSize(MAX_VALIDATORS)
  @ValidateNested({ each: true })
  @Type(() => DesiredValidatorDto)
  validators!: DesiredValidatorDto[];
}

export class ApplyPlanDto {
  @ApiPropertyOptional({
    description:
      'Key files of identities this plan imports, by validator name: { stakerCrt, stakerKey, signerKey }. Used once to create the validator; never stored in the plan.',
    type: 'object',
    additionalProperties: { type: 'object' },
  })
  @IsOptional()
  @IsObject({ message: 'identities must be an object keyed by validator name' })
  identities?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'alice@ci-runner-7',
    description: 'Who is applying (shown to anyone who finds the project locked).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  holder?: string;
}
