import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  PLAN_ACTIONS,
  VALIDATOR_STATES,
  type PlanActionKind,
  type SpecField,
  type ValidatorState,
  type WebhookField,
} from '@snowline/domain';
import { DesiredValidatorDto, DesiredWebhookDto } from './plan.dto';

// Response schemas only: the document and the generated client read them; PlansService builds the body
// from libs/domain's plan types, which these mirror field for field.

const SPEC_FIELDS = [
  'network',
  'subnetId',
  'instanceType',
  'identity',
  'zones',
  'labels',
  'protected',
  'version',
  'upgrade',
] as const satisfies readonly SpecField[];
const WEBHOOK_FIELDS = [
  'url',
  'events',
  'enabled',
  'description',
  'secretVersion',
] as const satisfies readonly WebhookField[];
/** Any JSON value: a field's value before or after (a string, a list, a map, a flag…). */
// (ApiPropertyOptions' union has no member for a bare oneOf; the document takes it as written.)
const ANY_VALUE = {
  oneOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'array', items: {} },
    { type: 'object', additionalProperties: true },
    { type: 'null' },
  ],
} as unknown as ApiPropertyOptions;

export class FieldChangeDto {
  @ApiProperty({ enum: SPEC_FIELDS }) field!: SpecField;
  @ApiProperty(ANY_VALUE) before!: unknown;
  @ApiProperty(ANY_VALUE) after!: unknown;
  @ApiProperty({ description: 'the change cannot be made in place' }) forcesReplacement!: boolean;
}

export class PlanActionDto {
  @ApiProperty({ enum: PLAN_ACTIONS }) action!: PlanActionKind;
  @ApiProperty({ example: 'fuji-a' }) name!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null for create' })
  validatorId!: string | null;
  @ApiProperty({ enum: VALIDATOR_STATES, nullable: true }) state!: ValidatorState | null;
  @ApiProperty({ description: 'one line a human can act on' }) reason!: string;
  @ApiProperty({ type: [FieldChangeDto] }) changes!: FieldChangeDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'what changed behind the file’s back, when that is why this action exists',
  })
  drift!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'why apply will refuse this plan' })
  refused!: string | null;
  @ApiProperty({ description: 'protection is dropped first' }) unprotect!: boolean;
  @ApiProperty({ type: [String] }) warnings!: string[];
  @ApiProperty({
    type: DesiredValidatorDto,
    nullable: true,
    description: 'what the validator becomes (create, update, replace)',
  })
  desired!: DesiredValidatorDto | null;
  @ApiPropertyOptional({ description: 'applying adopts the validator (made outside the file)' })
  adopt?: boolean;
  @ApiPropertyOptional({ description: 'made outside the file: left alone, or retired by --prune' })
  unmanaged?: boolean;
}

export class PlanSummaryDto {
  @ApiProperty({ type: 'integer' }) create!: number;
  @ApiProperty({ type: 'integer' }) update!: number;
  @ApiProperty({ type: 'integer' }) replace!: number;
  @ApiProperty({ type: 'integer' }) delete!: number;
  @ApiProperty({ type: 'integer' }) noop!: number;
  @ApiProperty({ type: 'integer' }) refused!: number;
  @ApiPropertyOptional({ type: 'integer', description: 'absent in plans made before adoption' })
  adopt?: number;
}

export class UnmanagedValidatorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: VALIDATOR_STATES }) state!: ValidatorState;
  @ApiProperty() nodeId!: string;
  @ApiProperty({ description: 'the file names it: `snowline import NAME` adopts it' })
  named!: boolean;
}

export class WebhookChangeDto {
  @ApiProperty({ enum: WEBHOOK_FIELDS }) field!: WebhookField;
  @ApiProperty(ANY_VALUE) before!: unknown;
  @ApiProperty(ANY_VALUE) after!: unknown;
}

export class WebhookActionDto {
  @ApiProperty({ enum: ['create', 'update', 'delete', 'no-op'] })
  action!: 'create' | 'update' | 'delete' | 'no-op';
  @ApiProperty({ example: 'pager' }) name!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null for create' })
  webhookId!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty({ type: [WebhookChangeDto] }) changes!: WebhookChangeDto[];
  @ApiProperty({ type: String, nullable: true }) drift!: string | null;
  @ApiProperty({ type: [String] }) warnings!: string[];
  @ApiProperty({ type: DesiredWebhookDto, nullable: true, description: 'what it becomes' })
  desired!: DesiredWebhookDto | null;
  @ApiProperty({ description: 'apply needs the signing secret from `desired.secretEnv`' })
  needsSecret!: boolean;
}

export class UnmanagedWebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty() description!: string;
}

export class PoolActionDto {
  @ApiProperty({ enum: ['update', 'no-op'] }) action!: 'update' | 'no-op';
  @ApiProperty({ example: 'fuji' }) network!: string;
  @ApiProperty({ example: 'cn-hongkong-b' }) zone!: string;
  @ApiProperty({ type: 'integer', description: 'the standbys the worker keeps now' })
  before!: number;
  @ApiProperty({ type: 'integer', description: 'and after apply' }) after!: number;
  @ApiProperty({ enum: ['setting', 'default'] }) beforeSource!: 'setting' | 'default';
  @ApiProperty({ enum: ['setting', 'default'] }) afterSource!: 'setting' | 'default';
  @ApiProperty() reason!: string;
}

export class WebhookCountsDto {
  @ApiProperty({ type: 'integer' }) create!: number;
  @ApiProperty({ type: 'integer' }) update!: number;
  @ApiProperty({ type: 'integer' }) delete!: number;
  @ApiProperty({ type: 'integer' }) noop!: number;
}

export class PoolCountsDto {
  @ApiProperty({ type: 'integer' }) update!: number;
  @ApiProperty({ type: 'integer' }) noop!: number;
}

export class ConfigSummaryDto {
  @ApiProperty({ type: WebhookCountsDto }) webhooks!: WebhookCountsDto;
  @ApiProperty({ type: PoolCountsDto }) standbyPools!: PoolCountsDto;
}

export class ActionResultDto {
  @ApiPropertyOptional({
    enum: ['validator', 'webhook', 'standby_pool'],
    description: 'absent: a validator',
  })
  kind?: 'validator' | 'webhook' | 'standby_pool';
  @ApiProperty() name!: string;
  @ApiProperty({ enum: PLAN_ACTIONS }) action!: PlanActionKind;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) validatorId!: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'replace' })
  replacedValidatorId?: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) webhookId?: string | null;
  @ApiPropertyOptional({ description: 'the plan adopted this validator' }) adopted?: boolean;
  @ApiProperty({ enum: ['pending', 'done', 'failed'] }) outcome!: 'pending' | 'done' | 'failed';
  @ApiPropertyOptional({ type: String, nullable: true }) state?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) detail?: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'an update that changes the AvalancheGo version: pending until the rolling upgrade has moved the validator onto a host running this version; failed if the move rolled back',
  })
  rollingTo?: string | null;
}

export class PlanDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['apply', 'destroy'] }) mode!: 'apply' | 'destroy';
  @ApiProperty({ enum: ['planned', 'applying', 'applied', 'failed'] })
  status!: 'planned' | 'applying' | 'applied' | 'failed';
  @ApiProperty({ type: 'integer', description: 'the project’s state serial it was computed at' })
  serial!: number;
  @ApiProperty({ description: 'applying it would change something' }) changes!: boolean;
  @ApiProperty({ type: PlanSummaryDto }) summary!: PlanSummaryDto;
  @ApiProperty({ type: [PlanActionDto] }) actions!: PlanActionDto[];
  @ApiProperty({
    type: [UnmanagedValidatorDto],
    description: 'validators made outside the file that this plan leaves alone',
  })
  unmanagedValidators!: UnmanagedValidatorDto[];
  @ApiProperty({
    type: [WebhookActionDto],
    nullable: true,
    description: 'null: the request did not plan webhooks (or they are hidden: `webhooksHidden`)',
  })
  webhooks!: WebhookActionDto[] | null;
  @ApiProperty({ type: [UnmanagedWebhookDto] }) unmanagedWebhooks!: UnmanagedWebhookDto[];
  @ApiProperty({ description: 'the key lacks `webhooks:read`, so `webhooks` is not shown' })
  webhooksHidden!: boolean;
  @ApiProperty({
    type: [PoolActionDto],
    nullable: true,
    description: 'null: the request did not plan standby pools',
  })
  standbyPools!: PoolActionDto[] | null;
  @ApiProperty({ type: ConfigSummaryDto }) configSummary!: ConfigSummaryDto;
  @ApiProperty({ type: [ActionResultDto] }) results!: ActionResultDto[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) appliedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) settledAt!: string | null;
}

export class PlanLockDto {
  @ApiProperty({ format: 'uuid' }) planId!: string;
  @ApiProperty({ example: 'alice@laptop' }) holder!: string;
  @ApiProperty({ format: 'date-time' }) since!: string;
}

export class ForceUnlockDto {
  @ApiProperty({ enum: [true] }) unlocked!: true;
  @ApiProperty({ format: 'uuid' }) planId!: string;
}
