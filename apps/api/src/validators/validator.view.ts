import type { StakingIdentityEntity, ValidatorEntity } from '@snowline/persistence';

/** The public shape of a validator. Built field by field so nothing secret can slip in. */
export function validatorView(v: ValidatorEntity, identity?: StakingIdentityEntity | null) {
  return {
    id: v.id,
    name: v.name,
    network: v.network,
    state: v.state,
    stateReason: v.stateReason,
    nodeId: v.nodeId,
    blsPublicKey: identity?.blsPublicKey ?? null,
    proofOfPossession: identity?.proofOfPossession ?? null,
    identitySource: identity ? (identity.imported ? 'imported' : 'generated') : null,
    instanceType: v.instanceType,
    zones: v.zones,
    zone: v.zone,
    instanceId: v.instanceId,
    generation: v.generation,
    labels: v.labels,
    protected: v.protected,
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
    activeAt: v.activeAt?.toISOString() ?? null,
    retiredAt: v.retiredAt?.toISOString() ?? null,
  };
}
export type ValidatorView = ReturnType<typeof validatorView>;
