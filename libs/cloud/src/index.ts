import type { AppConfig } from '@snowline/config';
import { AlibabaEcsProvider, type AlibabaEcsProviderOptions } from './alibaba-ecs.provider';
import type { CloudProvider } from './cloud-provider';

export * from './cloud-provider';
export * from './errors';
export {
  AlibabaEcsProvider,
  type AlibabaEcsProviderOptions,
  type EcsCloudConfig,
} from './alibaba-ecs.provider';
export { mapEcsError } from './alibaba-ecs.errors';
export { RateLimiter, type BucketLimit, type RateLimits } from './rate-limiter';
export {
  InstanceIdentityError,
  generateIdentitySigner,
  signInstanceIdentity,
  verifyInstanceIdentity,
  withAudience,
  type IdentitySigner,
  type InstanceIdentityDocument,
  type InstanceIdentityFailure,
  type VerifyInstanceIdentityOptions,
} from './instance-identity';

/**
 * The one CloudProvider for this process. `sim` and `alibaba` differ only in endpoint, protocol and
 * credentials (already resolved by libs/config), so both use the real ECS client.
 */
export function createCloudProvider(
  config: AppConfig,
  opts: AlibabaEcsProviderOptions = {},
): CloudProvider {
  return new AlibabaEcsProvider(config.cloud, {
    systemDisk: config.cloud.provider === 'alibaba' ? { category: 'cloud_essd' } : undefined,
    ...opts,
  });
}
