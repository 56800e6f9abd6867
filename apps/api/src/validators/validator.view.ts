import type { IdentityPublic, ValidatorEntity } from '@snowline/persistence';

/**
 * The public shape of a validator. Built field by field so nothing secret can slip in. A generated
 * identity is made after the validator: until then `nodeId`, `blsPublicKey` and `proofOfPossession`
 * are null (unknown), never a placeholder.
 */
export function validatorView(v: ValidatorEntity, identity?: IdentityPublic | null) {
  return {
    id: v.id,
    name: v.name,
    network: v.network,
    state: v.state,
    stateReason: v.stateReason,
    nodeId: v.nodeId,
    blsPublicKey: identity?.blsPublicKey ?? null,
    proofOfPossession: identity?.proofOfPossession ?? null,
    // Imports are attached at creation, so a validator without one yet is waiting for a generated one.
    identitySource: identity?.imported ? ('imported' as const) : ('generated' as const),
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
