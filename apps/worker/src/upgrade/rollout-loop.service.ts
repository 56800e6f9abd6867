import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { judgeAutoUpgrade, planRollout, type RolloutMove } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { FailoverService } from '../failover/failover.service';
import { LeaderLoop } from '../lifecycle/leader-loop';

export interface RolloutStats {
  /** `before-deadline` validators given a surviving version this round. */
  scheduled: number;
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
    const stats: RolloutStats = { scheduled: 0, behind: 0, started: 0, waiting: 0, halted: 0 };
    if (await this.repos.incidents.controlPlaneSuspected()) return stats;
    stats.scheduled = await this.schedule(Date.now());
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
      const halted = halts.filter((h) => h.network === network).map((h) => h.version);
      stats.halted += plan.waiting.filter((w) => halted.includes(w.version)).length;
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

  /**
   * The `upgrade: before-deadline` policy (`judgeAutoUpgrade`): within UPGRADE_AUTO_DAYS of its
   * network's next activation, and inside UPGRADE_WINDOW_UTC, a validator whose spec's version would
   * not survive it is given one that does; this round's plan then moves it like any other.
   */
  async schedule(now: number): Promise<number> {
    const av = this.config.avalanchego;
    const leadMs = av.autoDays * 86_400_000;
    // Only networks with an activation within the lead time can have anything to schedule: most
    // rounds read nothing.
    const due = [
      ...new Set(
        av.calendar
          .filter((u) => u.activatesAt > now && u.activatesAt - now <= leadMs)
          .map((u) => u.network),
      ),
    ];
    if (!due.length) return 0;
    let n = 0;
    for (const v of await this.repos.versions.fleet(due)) {
      if (v.upgradePolicy !== 'before-deadline') continue;
      const desired = v.desiredVersion ?? av.defaultVersion[v.network];
      const verdict = judgeAutoUpgrade({
        policy: v.upgradePolicy,
        network: v.network,
        desiredVersion: desired,
        calendar: av.calendar,
        releases: Object.keys(av.releases),
        defaultVersion: av.defaultVersion[v.network] ?? null,
        leadMs,
        window: av.window,
        now,
      });
      if (verdict.action === 'stuck') {
        this.log.warn(
          { validatorId: v.id, reason: verdict.reason },
          'cannot upgrade before the deadline',
        );
        continue;
      }
      if (verdict.action !== 'upgrade') continue;
      await this.repos.transaction(async (tx) => {
        await this.repos.validators.update(v.id, { avalanchegoVersion: verdict.to }, tx);
        await this.repos.events.append(
          {
            type: 'upgrade.scheduled',
            message: `${v.name}: avalanchego ${desired} → ${verdict.to} (${verdict.reason})`,
            projectId: v.projectId,
            validatorId: v.id,
            data: {
              fromVersion: desired,
              toVersion: verdict.to,
              upgrade: verdict.upgrade.name,
              deadline: new Date(verdict.upgrade.activatesAt).toISOString(),
            },
          },
          tx,
        );
      });
      n++;
    }
    return n;
  }
}
