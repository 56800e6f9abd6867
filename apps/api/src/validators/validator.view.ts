import type { IdentityPublic, ValidatorListItem } from '@snowline/persistence';
import { isoTime } from '../common/iso-time';

/**
 * The public shape of a validator. Built field by field so nothing secret can slip in. A generated
 * identity is made after the validator: until then `nodeId`, `blsPublicKey` and `proofOfPossession`
 * are null (unknown), never a placeholder.
 */
export function validatorView(
  v: Omit<ValidatorListItem, 'identity'>,
  identity?: IdentityPublic | null,
) {
  const gone = v.state === 'retiring' || v.state === 'retired';
  return {
    id: v.id,
    name: v.name,
    network: v.network,
    // An L1 validator's L1 (ACP-77); null: the primary network.
    subnetId: v.subnetId,
    state: v.state,
    stateReason: v.stateReason,
    nodeId: v.nodeId,
    blsPublicKey: identity?.blsPublicKey ?? null,
    proofOfPossession: identity?.proofOfPossession ?? null,
    // Imports are attached at creation, so a validator without one yet is waiting for a generated one.
    identitySource: identity?.imported ? ('imported' as const) : ('generated' as const),
    instanceType: v.instanceType,
    zones: v.zones,
    // A retired validator runs nowhere: where it ran is history (GET /v1/validators/:id/hosts).
    zone: gone ? null : v.zone,
    instanceId: gone ? null : v.instanceId,
    /**
     * The current host's verdict and, apart from it, when its agent last reported: the verdict's
     * age is not the report's. Null when nothing runs it (not placed yet, retiring or retired).
     */
    health:
      gone || !v.currentHost
        ? null
        : {
            state: v.currentHost.state,
            reason: v.currentHost.reason,
            healthSince: v.currentHost.healthSince ? isoTime(v.currentHost.healthSince) : null,
            lastReportAt: v.currentHost.lastReportAt ? isoTime(v.currentHost.lastReportAt) : null,
          },
    generation: v.generation,
    labels: v.labels,
    protected: v.protected,
    createdAt: isoTime(v.createdAt),
    updatedAt: isoTime(v.updatedAt),
    activeAt: v.activeAt ? isoTime(v.activeAt) : null,
    retiredAt: v.retiredAt ? isoTime(v.retiredAt) : null,
  };
}
export type ValidatorView = ReturnType<typeof validatorView>;
