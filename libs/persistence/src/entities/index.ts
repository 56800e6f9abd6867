import { ApiKeyEntity } from './api-key.entity';
import { EventEntity } from './event.entity';
import { HostEntity } from './host.entity';
import { ProjectEntity } from './project.entity';
import { StakingIdentityEntity } from './staking-identity.entity';
import { ValidatorEntity } from './validator.entity';

export {
  ApiKeyEntity,
  EventEntity,
  HostEntity,
  ProjectEntity,
  StakingIdentityEntity,
  ValidatorEntity,
};
export const ENTITIES = [
  ProjectEntity,
  ApiKeyEntity,
  StakingIdentityEntity,
  ValidatorEntity,
  HostEntity,
  EventEntity,
];
