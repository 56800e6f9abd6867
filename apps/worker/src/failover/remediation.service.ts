import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { decideRemediation, type HealthState } from '@snowline/domain';
import { Repositories, type LeaseFence, type SweepHost } from '@snowline/persistence';
import { FailoverService } from './failover.service';

/** One host as a health sweep judged it: what remediation acts on. */
export interface JudgedHost {
  host: SweepHost;
  verdict: { state: HealthState; reason: string };
  /** The cloud itself (this sweep's Describe) says the instance is stopped, gone or impaired. */
  cloudConfirmed: boolean;
}

/**
 * Remediation, the owner that acts on health detection's verdicts (as Cluster API's owner acts on a
 * MachineHealthCheck's condition): validators whose host is suspect or unhealthy show `degraded`
 * (and `active` again once it is healthy), and those unhealthy past the grace period are handed to
 * the failover service under the caps of `decideRemediation` (pure, in libs/domain).
 *
 * It runs right after detection, in the same leader round, on that sweep's verdicts: whether the
 * cloud confirmed a failure (an instance missing from the Describe, or a batch that failed this
 * sweep) is not in the hosts table, and a loop of its own would add up to a sweep interval to every
 * failover.
 */
@Injectable()
export class RemediationService {
  private readonly log = new Logger('remediation');

  constructor(
    private readonly repos: Repositories,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Acts on one sweep's verdicts; returns how many failovers it started. */
  async remediate(
    verdicts: JudgedHost[],
    suspectSelf: boolean,
    nowMs: number,
    outageZones: ReadonlySet<string> = new Set(),
    fence?: LeaseFence,
  ): Promise<number> {
    const current = verdicts.filter(
      (x) =>
        x.host.role === 'assigned' && x.host.validatorId && x.host.validatorHostId === x.host.id,
    );
    // Degraded while the node or agent looks wrong (one statement each way): a validator whose host
    // is suspect or unhealthy never shows `active`, held or not.
    await this.moveStates(
      current.filter(
        (x) =>
          (x.verdict.state === 'suspect' || x.verdict.state === 'unhealthy') &&
          x.host.validatorState === 'active',
      ),
      'degraded',
      'active',
    );
    await this.moveStates(
      current.filter((x) => x.verdict.state === 'healthy' && x.host.validatorState === 'degraded'),
      'active',
      'degraded',
    );
    const candidates = current.filter(
      (x) =>
        x.verdict.state === 'unhealthy' &&
        ['active', 'degraded', 'syncing'].includes(x.host.validatorState ?? ''),
    );
    if (!candidates.length) return 0;
    const { running, recentStarts } = await this.repos.failovers.load();
    const movesToday = await this.repos.failovers.failoversToday(
      candidates.map((c) => c.host.validatorId!),
    );
    // The last evaluated downtime budget of each: the least budget left moves first (issue 22).
    const staking = await this.repos.staking.urgencyOf(candidates.map((c) => c.host.validatorId!));
    // The max-unhealthy cap weighs Snowline's own word (silence) only, never the cloud's.
    const unhealthyAssigned = current.filter(
      (x) => x.verdict.state === 'unhealthy' && !x.cloudConfirmed,
    ).length;
    const decision = decideRemediation(
      candidates.map((c) => ({
        validatorId: c.host.validatorId!,
        unhealthySince:
          c.host.health === 'unhealthy' && c.host.healthSince
            ? c.host.healthSince.getTime()
            : nowMs,
        cloudConfirmed: c.cloudConfirmed,
        zoneOutage: !suspectSelf && outageZones.has(c.host.zone),
        staking: staking.get(c.host.validatorId!),
      })),
      {
        now: nowMs,
        running,
        recentStarts,
        movesToday,
        unhealthyAssigned,
        totalAssigned: current.length,
        suspectSelf,
      },
      {
        graceMs: this.config.failover.graceSeconds * 1000,
        maxConcurrent: this.config.failover.maxConcurrent,
        ratePerMinute: this.config.failover.ratePerMinute,
        maxUnhealthyFraction: this.config.failover.maxUnhealthyPercent / 100,
        dailyBudget: this.config.failover.dailyBudget,
        capMinHosts: this.config.health.zoneMinHosts,
      },
    );
    let started = 0;
    for (const validatorId of decision.start) {
      const c = candidates.find((x) => x.host.validatorId === validatorId)!;
      const method = await this.failover
        .start({
          validatorId,
          fromHostId: c.host.id,
          reason: c.verdict.reason,
          fence,
          detectedAt:
            c.host.health === 'unhealthy' && c.host.healthSince
              ? c.host.healthSince
              : new Date(nowMs),
        })
        .catch((err: Error) => {
          this.log.warn({ validatorId, err: err.message }, 'failover could not start');
          return null;
        });
      if (method) started++;
    }
    return started;
  }

  private async moveStates(
    rows: JudgedHost[],
    to: 'active' | 'degraded',
    from: 'active' | 'degraded',
  ): Promise<void> {
    if (!rows.length) return;
    const reasons = new Map(rows.map((r) => [r.host.validatorId!, r.verdict.reason]));
    const hostOf = new Map(rows.map((r) => [r.host.validatorId!, r.host]));
    const moved = await this.repos.validators.moveHealthStates(reasons, to, from);
    await this.repos.events.appendMany(
      moved.map((id) => {
        const host = hostOf.get(id)!;
        return {
          type: `validator.${to}`,
          message:
            to === 'degraded'
              ? `Validator degraded: ${reasons.get(id)}`
              : 'Validator healthy again',
          projectId: host.projectId,
          validatorId: id,
          hostId: host.id,
          zone: host.zone,
        };
      }),
    );
  }
}
