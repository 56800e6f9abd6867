import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ENV_NAME_RE,
  EVENT_TYPE_RE,
  INSTANCE_TYPE_RE,
  MAX_VALIDATORS,
  MAX_WEBHOOKS,
  NAME_RE,
  NETWORKS,
  NODE_ID_RE,
  UPGRADE_POLICIES,
  type Network,
  type UpgradePolicy,
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

  @ApiPropertyOptional({
    example: '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r',
    description:
      'An L1 validator: the L1’s subnet id (cb58); absent: the primary network. Changing it replaces the validator.',
  })
  @IsOptional()
  @IsString({ message: 'subnetId must be a string: the L1’s subnet id (cb58)' })
  @MaxLength(100)
  subnetId?: string;

  @ApiPropertyOptional({
    example: '1.15.3',
    description:
      'AvalancheGo version with a pinned release; absent: the fleet default when created, unchanged after.',
  })
  @IsOptional()
  @IsString({ message: 'version must be a string like 1.15.3' })
  @MaxLength(64)
  version?: string;

  @ApiPropertyOptional({ enum: UPGRADE_POLICIES, description: 'absent: manual' })
  @IsOptional()
  @IsIn(UPGRADE_POLICIES as unknown as string[], {
    message: `upgrade must be one of: ${UPGRADE_POLICIES.join(', ')}`,
  })
  upgrade?: UpgradePolicy;

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

/** One webhook as snowline.yaml declares it: the secret's variable name, never the secret. */
export class DesiredWebhookDto {
  @ApiProperty({ example: 'pager' })
  @IsString()
  @Matches(NAME_RE, {
    message:
      'name must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  name!: string;

  @ApiProperty({ example: 'https://hooks.example.com/snowline' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({
    example: ['validator.failed'],
    description: 'empty or absent: every type',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(EVENT_TYPE_RE, { each: true, message: 'each event type looks like validator.created' })
  events?: string[];

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ example: 'pager bridge' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiProperty({
    example: 'PAGER_WEBHOOK_SECRET',
    description:
      'Name of the environment variable the CLI reads the signing secret from at apply (the value travels only with the apply request).',
  })
  @IsString()
  @Matches(ENV_NAME_RE, { message: 'secretEnv must be the name of an environment variable' })
  secretEnv!: string;

  @ApiPropertyOptional({ example: 1, description: 'Raise it to rotate the signing secret.' })
  @IsOptional()
  @IsInt({ message: 'secretVersion must be a whole number' })
  @Min(1)
  @Max(1_000_000)
  secretVersion?: number;
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

  @ApiPropertyOptional({
    type: [DesiredWebhookDto],
    description:
      'The webhooks the file manages (by name). Absent: webhooks are not planned at all; [] deletes every webhook a file created. Webhooks made in the console or API are never touched.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_WEBHOOKS)
  @ValidateNested({ each: true })
  @Type(() => DesiredWebhookDto)
  webhooks?: DesiredWebhookDto[];

  @ApiPropertyOptional({
    description:
      'Standby pools for the whole deployment: network → zone → warm standbys (admin scope to change). Absent: pools are not planned.',
    example: { fuji: { 'cn-hongkong-b': 2, 'cn-hongkong-c': 1 } },
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
  })
  @IsOptional()
  @IsObject({ message: 'standbyPools must be an object: network → zone → count' })
  standbyPools?: Record<string, Record<string, number>>;

  @ApiPropertyOptional({
    type: [String],
    description:
      'Validators made outside the file (REST, console) that this plan adopts (`snowline import NAME`); each must be named in `validators`.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_VALIDATORS)
  @IsString({ each: true, message: 'adopt must be a list of validator names' })
  adopt?: string[];

  @ApiPropertyOptional({
    description:
      'Also retire the validators made outside the file that it does not name (`snowline apply --prune`). Without it they are listed as unmanaged and never changed.',
  })
  @IsOptional()
  @IsBoolean({ message: 'prune must be true or false' })
  prune?: boolean;
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

  @ApiPropertyOptional({
    description:
      'Signing secrets of the webhooks this plan creates or rotates, by webhook name (read by the CLI from each secret_env). Sealed at once; never stored in the plan, returned or logged.',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject({ message: 'webhookSecrets must be an object keyed by webhook name' })
  webhookSecrets?: Record<string, unknown>;
}
