import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  judgeMove,
  type HealthState,
  type MoveKind,
  type MoveVerdict,
  type ValidatorState,
} from '@snowline/domain';
import { LeaderLoop } from '../lifecycle/leader-loop';
import { FailoverService } from './failover.service';

export interface WatchdogStats {
  live: number;
  done: number;
  cancelled: number;
  replanned: number;
  failed: number;
}

interface MoveRow {
  id: string;
  validator_id: string;
  kind: MoveKind;
  attempt: number;
  generation: number;
  deadline_at: Date;
  v_state: ValidatorState | null;
  v_generation: number | null;
  t_instance_id: string | null;
  t_zone: string | null;
  t_health: HealthState | null;
  t_health_reason: string | null;
  t_deleted: boolean | null;
  t_registered: boolean | null;
  t_keys: boolean | null;
  t_running: boolean | null;
}

/**
 * The move watchdog: every live move ends. Each round it judges every `running` failovers row
 * (`judgeMove`, pure) against its validator and its target host — the validator's current host at
 * the move's generation — and re-plans a move whose target died or made no progress by its
 * deadline, fails the validator after the last attempt, and closes moves that no longer apply.
 * Apart from the health loop: a failing_over validator is never a remediation candidate there.
 */
@Injectable()
export class MoveWatchdogService extends LeaderLoop<WatchdogStats> {
  constructor(
    private readonly ds: DataSource,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(ds, 'move-watchdog');
  }

  protected intervalMs(): number {
    return this.config.health.sweepIntervalSeconds * 1000;
  }

  protected async round(): Promise<WatchdogStats> {
    const nowMs = Date.now();
    const rows = (await this.ds.query(
      `SELECT f.id, f.validator_id, f.kind, f.attempt, f.generation, f.deadline_at,
              v.state AS v_state, v.generation AS v_generation,
              t.instance_id AS t_instance_id, t.zone AS t_zone, t.health AS t_health,
              t.health_reason AS t_health_reason, (t.deleted_at IS NOT NULL) AS t_deleted,
              (t.registered_at IS NOT NULL) AS t_registered,
              (t.keys_fetched_generation = f.generation) AS t_keys,
              coalesce((t.last_report->>'running')::boolean, false) AS t_running
         FROM failovers f
         LEFT JOIN validators v ON v.id = f.validator_id
         LEFT JOIN hosts t ON t.id = v.host_id AND t.generation = f.generation
        WHERE f.status = 'running'
        ORDER BY f.started_at
        LIMIT 1000`,
    )) as MoveRow[];
    const stats: WatchdogStats = {
      live: rows.length,
      done: 0,
      cancelled: 0,
      replanned: 0,
      failed: 0,
    };
    for (const r of rows) {
      const verdict = this.judge(r, nowMs);
      if (verdict.action === 'wait') continue;
      const move = {
        id: r.id,
        validatorId: r.validator_id,
        generation: r.generation,
        attempt: r.attempt,
        kind: r.kind,
      };
      try {
        if (verdict.action === 'replan') {
          if (await this.failover.replan(move, verdict.reason)) stats.replanned++;
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
    if (stats.replanned || stats.failed || stats.cancelled || stats.done)
      this.log.log(stats, 'moves judged');
    return stats;
  }

  private judge(r: MoveRow, nowMs: number): MoveVerdict {
    return judgeMove(
      {
        kind: r.kind,
        attempt: r.attempt,
        generation: r.generation,
        deadlineAt: r.deadline_at.getTime(),
      },
      r.v_state === null ? null : { state: r.v_state, generation: r.v_generation! },
      r.t_zone === null
        ? null
        : {
            instanceId: r.t_instance_id,
            zone: r.t_zone,
            health: r.t_health ?? 'unknown',
            healthReason: r.t_health_reason,
            gone: r.t_deleted === true,
            registered: r.t_registered === true,
            keysDelivered: r.t_keys === true,
            nodeRunning: r.t_running === true,
          },
      nowMs,
      { maxAttempts: this.config.failover.maxAttempts },
    );
  }
}
