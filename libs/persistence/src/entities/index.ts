import { ApiKeyEntity } from './api-key.entity';
import { EventEntity } from './event.entity';
import { FailoverEntity } from './failover.entity';
import { HostEntity } from './host.entity';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { PlanEntity, PlanLockEntity } from './plan.entity';
import { ProjectEntity } from './project.entity';
import { StakingIdentityEntity } from './staking-identity.entity';
import { ValidatorEntity } from './validator.entity';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookEntity } from './webhook.entity';

export type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';
export type { PlanStatus } from './plan.entity';
export {
  ApiKeyEntity,
  EventEntity,
  FailoverEntity,
  HostEntity,
  IdempotencyKeyEntity,
  PlanEntity,
  PlanLockEntity,
  ProjectEntity,
  StakingIdentityEntity,
  ValidatorEntity,
  WebhookDeliveryEntity,
  WebhookEntity,
};
export const ENTITIES = [
  ProjectEntity,
  ApiKeyEntity,
  StakingIdentityEntity,
  ValidatorEntity,
  HostEntity,
  EventEntity,
  IdempotencyKeyEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  FailoverEntity,
  PlanEntity,
  PlanLockEntity,
];
