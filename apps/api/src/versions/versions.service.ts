import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  canonicalVersion,
  isUpgradePolicy,
  judgeUpgrade,
  nextActivation,
  UPGRADE_POLICIES,
  versionRefusal,
  type Network,
  type NetworkUpgrade,
  type UpgradePolicy,
} from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { badRequest } from '../common/problem';
import { isoTime } from '../common/iso-time';

type AvalancheGoConfig = AppConfig['avalanchego'];

/** What the validator resource says about versions (see `versionFields`). */
export interface VersionFacts {
  network: Network;
  avalanchegoVersion: string | null;
  upgradePolicy: UpgradePolicy;
  runningVersion: string | null;
  runningObservedAt: Date | null;
}

const DAY_MS = 86_400_000;

function upgradeView(u: NetworkUpgrade) {
  return {
    network: u.network,
    name: u.name,
    activatesAt: isoTime(new Date(u.activatesAt)),
    minVersion: u.minVersion,
    source: u.source,
  };
}

/**
 * The version fields of a validator: `version` (what its spec asks for; the fleet default for a row
 * from before versions), the version its host reports running (null = unknown) with that report's
 * time, its upgrade policy, and its network's next activation with whether it survives it.
 */
export function versionFields(v: VersionFacts, av: AvalancheGoConfig, now: number) {
  const version = v.avalanchegoVersion ?? av.defaultVersion[v.network];
  const verdict = judgeUpgrade(
    { network: v.network, desiredVersion: version, runningVersion: v.runningVersion },
    av.calendar,
    now,
    Infinity,
  );
  return {
    version,
    runningVersion: v.runningVersion,
    runningVersionObservedAt:
      v.runningVersion !== null && v.runningObservedAt ? isoTime(v.runningObservedAt) : null,
    upgradePolicy: v.upgradePolicy,
    nextUpgrade:
      verdict.kind === 'none'
        ? null
        : {
            ...upgradeView(verdict.upgrade),
            // Only a known version is judged: unknown stays null.
            survives:
              verdict.kind === 'survives' ? true : verdict.kind === 'unknown' ? null : false,
            warning:
              verdict.kind === 'upgrade_required' &&
              verdict.upgrade.activatesAt - now <= av.warningDays * DAY_MS,
            message: verdict.kind === 'upgrade_required' ? verdict.message : null,
          },
  };
}

@Injectable()
export class VersionsService {
  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get avalanchego(): AvalancheGoConfig {
    return this.config.avalanchego;
  }

  /**
   * The canonical version a spec may name for `network` (its default when none): one with a
   * pinned release that runs there; otherwise a 400 that says which are known.
   */
  resolve(network: Network, requested: unknown, field = 'version'): string {
    const problem = this.problem(network, requested, field);
    if (problem) throw badRequest(problem);
    return requested === undefined || requested === null
      ? this.avalanchego.defaultVersion[network]
      : canonicalVersion(requested as string)!;
  }

  /** Why `requested` cannot be the version of a `network` validator, or null (none = default). */
  problem(network: Network, requested: unknown, field = 'version'): string | null {
    if (requested === undefined || requested === null) return null;
    const known = Object.keys(this.avalanchego.releases);
    if (typeof requested !== 'string' || !canonicalVersion(requested))
      return `${field}: ${JSON.stringify(requested)} is not an AvalancheGo version; use one of ${known.join(', ')}.`;
    const version = canonicalVersion(requested)!;
    const refusal = versionRefusal(version, network);
    if (refusal) return `${field}: ${refusal}.`;
    if (!this.avalanchego.releases[version])
      return `${field}: ${version} has no pinned release (AVALANCHEGO_RELEASES); use one of ${known.join(', ')}.`;
    return null;
  }

  policy(requested: unknown, field = 'upgrade'): UpgradePolicy | undefined {
    if (requested === undefined) return undefined;
    if (!isUpgradePolicy(requested))
      throw badRequest(`${field}: must be one of ${UPGRADE_POLICIES.join(', ')}.`);
    return requested;
  }

  /**
   * `GET /v1/network-upgrades`: every network's upcoming activation and the project's validators
   * that will not survive it (the console banner). `warning`: within UPGRADE_WARNING_DAYS.
   */
  async upcoming(projectId: string, now = Date.now()) {
    const av = this.avalanchego;
    const fleet = await this.repos.versions.ofProject(projectId);
    const networks = [...new Set(av.calendar.map((u) => u.network))];
    const items = [];
    for (const network of networks) {
      const next = nextActivation(av.calendar, network, now);
      if (!next) continue;
      const atRisk = [];
      let unknown = 0;
      for (const v of fleet) {
        if (v.network !== network) continue;
        const verdict = judgeUpgrade(
          {
            network,
            desiredVersion: v.desiredVersion ?? av.defaultVersion[network],
            runningVersion: v.runningVersion,
          },
          av.calendar,
          now,
          Infinity,
        );
        if (verdict.kind === 'unknown') unknown++;
        if (verdict.kind === 'upgrade_required')
          atRisk.push({
            id: v.id,
            name: v.name,
            version: v.desiredVersion ?? av.defaultVersion[network],
            runningVersion: v.runningVersion,
            cause: verdict.cause,
            message: verdict.message,
          });
      }
      items.push({
        ...upgradeView(next),
        warning: next.activatesAt - now <= av.warningDays * DAY_MS,
        validatorsAtRisk: atRisk,
        validatorsUnknown: unknown,
      });
    }
    return {
      items: items.sort((a, b) => a.activatesAt.localeCompare(b.activatesAt)),
      warningDays: av.warningDays,
      // What a spec may name (the console's launch form offers these).
      defaultVersions: av.defaultVersion,
      releases: Object.keys(av.releases),
    };
  }
}
