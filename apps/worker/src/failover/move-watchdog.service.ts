import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { judgeMove, type MoveVerdict } from '@snowline/domain';
import { Repositories, type LiveMove } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';
import { FailoverService } from './failover.service';

export interface WatchdogStats {
  live: number;
  done: number;
  cancelled: number;
  replanned: number;
  failed: number;
  rolledBack: number;
}

/**
 * The move watchdog: every live move ends. Each round it judges every `running` failovers row
 * (`judgeMove`, pure) against its validator and its target host — the validator's current host at
 * the move's generation — and re-plans a move whose target died or made no progress by its
 * deadline, fails the validator after the last attempt, rolls back an upgrade whose new node did not
 * come up (and halts its rollout), and closes moves that no longer apply.
 * Apart from the health loop: a failing_over validator is never a remediation candidate there.
 */
@Injectable()
export class MoveWatchdogService extends LeaderLoop<WatchdogStats> {
  constructor(
    private readonly repos: Repositories,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'move-watchdog', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  protected async round(): Promise<WatchdogStats> {
    const nowMs = Date.now();
    const rows = await this.repos.failovers.live();
    const stats: WatchdogStats = {
      live: rows.length,
      done: 0,
      cancelled: 0,
      replanned: 0,
      failed: 0,
      rolledBack: 0,
    };
    for (const r of rows) {
      const verdict = this.judge(r, nowMs);
      if (verdict.action === 'wait') continue;
      const move = {
        id: r.id,
        validatorId: r.validatorId,
        generation: r.generation,
        attempt: r.attempt,
        kind: r.kind,
      };
      try {
        if (verdict.action === 'replan') {
          if (await this.failover.replan(move, verdict.reason)) stats.replanned++;
        } else if (verdict.action === 'rollback') {
          if (await this.failover.rollback(move, verdict.reason)) stats.rolledBack++;
        } else if (verdict.action === 'fail') {
          if (await this.failover.giveUp(move, verdict.reason)) stats.failed++;
        } else {
          const status = verdict.action === 'done' ? 'done' : 'cancelled';
          if (await this.failover.end(move, status, verdict.reason))
            stats[verdict.action === 'done' ? 'done' : 'cancelled']++;
        }
      } catch (err) {
        this.log.warn({ move: r.id, err: (err as Error).message }, 'watchdog action failed');
      }
    }
    stats.live -= stats.done + stats.cancelled + stats.failed;
    if (stats.replanned || stats.failed || stats.cancelled || stats.done || stats.rolledBack)
      this.log.log(stats, 'moves judged');
    return stats;
  }

  private judge(r: LiveMove, nowMs: number): MoveVerdict {
    return judgeMove(
      {
        kind: r.kind,
        attempt: r.attempt,
        generation: r.generation,
        deadlineAt: r.deadlineAt.getTime(),
      },
      r.validatorState === null
        ? null
        : { state: r.validatorState, generation: r.validatorGeneration! },
      r.targetZone === null
        ? null
        : {
            instanceId: r.targetInstanceId,
            zone: r.targetZone,
            health: r.targetHealth ?? 'unknown',
            healthReason: r.targetHealthReason,
            gone: r.targetDeleted === true,
            registered: r.targetRegistered === true,
            keysDelivered: r.targetKeys === true,
            nodeRunning: r.targetRunning === true,
          },
      nowMs,
      { maxAttempts: this.config.failover.maxAttempts },
    );
  }
}
