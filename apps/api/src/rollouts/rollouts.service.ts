import { Injectable } from '@nestjs/common';
import { canonicalVersion, NETWORKS } from '@snowline/domain';
import { Repositories, type RolloutHalt } from '@snowline/persistence';
import type { Principal } from '../auth/principal';
import { badRequest, operatorOnly, Problem } from '../common/problem';
import { ProjectsService } from '../projects/projects.service';

/** 403: a halt stops a rollout for every tenant on the network, so only the operator lifts it. */
const adminNeeded = (what: string) =>
  operatorOnly(what, 'a rollout halt applies to the whole deployment');

export interface RolloutHaltView {
  network: string;
  version: string;
  reason: string;
  validatorId: string | null;
  haltedAt: string;
}

const view = (h: RolloutHalt): RolloutHaltView => ({
  network: h.network,
  version: h.version,
  reason: h.reason,
  validatorId: h.validatorId,
  haltedAt: new Date(h.haltedAt).toISOString(),
});

/**
 * Halted rollouts (a canary rolled back, so the worker moves no validator onto that version on that
 * network): the operator lists them and, once the build is fixed or the cause understood, lifts one.
 */
@Injectable()
export class RolloutsService {
  constructor(
    private readonly repos: Repositories,
    private readonly projects: ProjectsService,
  ) {}

  async halts(p: Principal): Promise<{ items: RolloutHaltView[] }> {
    if (!(await this.projects.isOperator(p))) throw adminNeeded('Reading rollout halts');
    return { items: (await this.repos.rollouts.halted()).map(view) };
  }

  /** Lifts the halt of the rollout to `version` on `network`; 404 when there is none. */
  async resume(p: Principal, network: string, version: string): Promise<RolloutHaltView> {
    if (!(NETWORKS as readonly string[]).includes(network))
      throw badRequest(
        `network: ${JSON.stringify(network)} is not a network; use one of ${NETWORKS.join(', ')}.`,
      );
    const canonical = canonicalVersion(version);
    if (!canonical)
      throw badRequest(
        `version: ${JSON.stringify(version)} is not an AvalancheGo version (e.g. 1.15.0, v1.15.0, 1.15.0-fuji).`,
      );
    if (!(await this.projects.isOperator(p))) throw adminNeeded('Lifting a rollout halt');
    const lifted = await this.repos.rollouts.resume(network, canonical);
    if (!lifted)
      throw new Problem(
        404,
        'Not Found',
        `No rollout to ${canonical} is halted on ${network}; GET /v1/rollouts/halts lists the halts.`,
      );
    await this.repos.events.append({
      type: 'rollout.resumed',
      message: `Rollout to ${canonical} on ${network} resumed by key ${p.keyId.slice(0, 8)} (halted ${view(lifted).haltedAt}: ${lifted.reason})`,
      projectId: p.projectId,
      validatorId: lifted.validatorId,
      data: { network, version: canonical, by: p.keyId, reason: lifted.reason },
    });
    return view(lifted);
  }
}
