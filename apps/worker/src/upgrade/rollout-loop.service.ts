import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { planRollout, type RolloutMove } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { FailoverService } from '../failover/failover.service';
import { LeaderLoop } from '../lifecycle/leader-loop';

export interface RolloutStats {
  /** Validators whose host does not run the version their spec asks for. */
  behind: number;
  started: number;
  /** Behind, but no move now (cap, no upgraded standby yet, halted, not active). */
  waiting: number;
  halted: number;
}

/**
 * Rolling upgrades (issue 23, point 2): every sweep interval, each validator whose host does not run
 * the AvalancheGo version its spec asks for moves onto a synced standby that does — a planned move
 * (`FailoverService.planned`: the old agent stops its node and acknowledges, the keys move on the
 * acknowledgment), never a restart in place. `planRollout` (pure) picks the moves: at most
 * UPGRADE_MAX_IN_FLIGHT_PER_ZONE leaving a zone at once, and none onto a version whose rollout halted
 * after a rollback. The standby pools hold the target version before anyone moves (StandbyPoolService:
 * pools per version). Held, like the standby refill, while Snowline suspects itself.
 */
@Injectable()
export class RolloutLoop extends LeaderLoop<RolloutStats> {
  constructor(
    private readonly repos: Repositories,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'rollout', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  protected async round(): Promise<RolloutStats> {
    const stats: RolloutStats = { behind: 0, started: 0, waiting: 0, halted: 0 };
    if (await this.repos.incidents.controlPlaneSuspected()) return stats;
    const [validators, standbys, inFlight, halts, closed] = await Promise.all([
      this.repos.rollouts.validators(),
      this.repos.rollouts.standbys(),
      this.repos.rollouts.plannedInFlightByZone(),
      this.repos.rollouts.halted(),
      this.repos.zones.closedToPlacement(),
    ]);
    const moves: RolloutMove[] = [];
    for (const network of new Set(validators.map((v) => v.network))) {
      const plan = planRollout({
        validators: validators.filter((v) => v.network === network),
        standbys: standbys.filter((s) => s.network === network),
        inFlightByZone: inFlight,
        halted: halts.filter((h) => h.network === network).map((h) => h.version),
        blockedZones: closed.map((c) => c.id),
        maxInFlightPerZone: this.config.avalanchego.maxInFlightPerZone,
      });
      moves.push(...plan.moves);
      stats.waiting += plan.waiting.length;
      stats.halted += plan.waiting.filter((w) => w.reason.includes('halted')).length;
      // planRollout counted these zones' slots for this network; the next network sees them taken.
      for (const m of plan.moves) inFlight[m.fromZone] = (inFlight[m.fromZone] ?? 0) + 1;
    }
    stats.behind = moves.length + stats.waiting;
    for (const m of moves) {
      try {
        if (await this.failover.planned(m, 'upgrade', this.fence())) stats.started++;
      } catch (err) {
        this.log.warn(
          { validatorId: m.validatorId, err: (err as Error).message },
          'upgrade move failed to start',
        );
      }
    }
    if (stats.started) this.log.log(stats, 'rolling upgrade: moves started');
    return stats;
  }
}
