import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { activationKey, judgeUpgrade } from '@snowline/domain';
import { Repositories, type VersionWarning } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';

const DAY_MS = 86_400_000;

export interface DeadlineStats {
  /** Live validators judged this round. */
  checked: number;
  /** Validators that will not survive their network's next activation (warned now or before). */
  atRisk: number;
  /** Warned this round (a `version.upgrade_required` event each). */
  warned: number;
  /** Running version unknown (spec fine): not warned, never counted safe. */
  unknown: number;
}

/**
 * Deadline warnings (issue 23 point 4): every UPGRADE_CHECK_INTERVAL_SECONDS, each live validator's
 * version — its spec's, then what its host reports — is judged against its network's next activation
 * (`judgeUpgrade`); within UPGRADE_WARNING_DAYS of it, one that will not survive gets a
 * `version.upgrade_required` event with the deadline, once per validator and activation
 * (version_warnings). Detection only: upgrading it (policy `before-deadline`) is the rollout's job.
 */
@Injectable()
export class UpgradeDeadlineLoop extends LeaderLoop<DeadlineStats> {
  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'upgrade-deadlines', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.avalanchego.checkIntervalSeconds * 1000;
  }

  protected round(): Promise<DeadlineStats> {
    return this.check(Date.now());
  }

  async check(now: number): Promise<DeadlineStats> {
    const av = this.config.avalanchego;
    const windowMs = av.warningDays * DAY_MS;
    const networks = [
      ...new Set(
        av.calendar
          .filter((u) => u.activatesAt > now && u.activatesAt - now <= windowMs)
          .map((u) => u.network),
      ),
    ];
    const stats: DeadlineStats = { checked: 0, atRisk: 0, warned: 0, unknown: 0 };
    if (!networks.length) return stats;
    const fleet = await this.repos.versions.fleet(networks);
    const warnings: VersionWarning[] = [];
    for (const v of fleet) {
      stats.checked++;
      const desiredVersion = v.desiredVersion ?? av.defaultVersion[v.network];
      const verdict = judgeUpgrade(
        { network: v.network, desiredVersion, runningVersion: v.runningVersion },
        av.calendar,
        now,
        windowMs,
      );
      if (verdict.kind === 'unknown') stats.unknown++;
      if (verdict.kind !== 'upgrade_required') continue;
      stats.atRisk++;
      const u = verdict.upgrade;
      const version = verdict.cause === 'spec' ? desiredVersion : v.runningVersion!;
      warnings.push({
        validatorId: v.id,
        projectId: v.projectId,
        activation: activationKey(u),
        network: u.network,
        upgradeName: u.name,
        deadline: new Date(u.activatesAt),
        minVersion: u.minVersion,
        version,
        cause: verdict.cause,
        message: `Validator ${v.name} will not survive ${u.name}: ${verdict.message}`,
        data: {
          network: u.network,
          upgrade: u.name,
          deadline: new Date(u.activatesAt).toISOString(),
          minVersion: u.minVersion,
          version: desiredVersion,
          runningVersion: v.runningVersion,
          cause: verdict.cause,
          upgradePolicy: v.upgradePolicy,
          source: u.source,
        },
      });
    }
    const warned = await this.repos.versions.recordWarnings(warnings);
    stats.warned = warned.length;
    if (warned.length) this.log.warn(stats, 'validators warned: upgrade before the deadline');
    return stats;
  }
}
