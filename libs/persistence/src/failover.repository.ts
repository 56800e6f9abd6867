import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from './tx';
import type { HealthState, MoveKind, ValidatorState } from '@snowline/domain';
import { FailoverEntity } from './entities';

/** A live move as the watchdog judges it, with its validator and target host. */
export interface LiveMove {
  id: string;
  validatorId: string;
  kind: MoveKind;
  attempt: number;
  generation: number;
  deadlineAt: Date;
  validatorState: ValidatorState | null;
  validatorGeneration: number | null;
  /** The validator's current host at the move's generation: null fields when there is none. */
  targetInstanceId: string | null;
  targetZone: string | null;
  targetHealth: HealthState | null;
  targetHealthReason: string | null;
  targetDeleted: boolean | null;
  targetRegistered: boolean | null;
  targetKeys: boolean | null;
  targetRunning: boolean | null;
}

/** Failover rows as remediation's caps and the move watchdog read them. */
export class FailoverRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Failovers under way, and the start times (ms) of those started in the last minute: the storm
   * caps' input. Planned moves (upgrade, rollback) have their own per-zone cap and are not counted.
   */
  async load(): Promise<{ running: number; recentStarts: number[] }> {
    // Live moves only: the watchdog ends every move, so a `running` row is a move under way.
    const [{ running, recent }] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
              coalesce(array_agg(extract(epoch FROM started_at) * 1000) FILTER (WHERE started_at > now() - interval '1 minute'), '{}') AS recent
         FROM failovers
        WHERE kind = 'failover' AND (started_at > now() - interval '1 day' OR status = 'running')`,
    )) as [{ running: number; recent: number[] }];
    return { running, recentStarts: recent.map(Number) };
  }

  /**
   * Failovers started in the last day per validator. The flapping budget counts failovers, not the
   * watchdog's re-plans of one, nor upgrades.
   */
  async failoversToday(validatorIds: string[]): Promise<Map<string, number>> {
    const rows = (await this.ds.query(
      `SELECT validator_id, count(*)::int AS n FROM failovers
        WHERE started_at > now() - interval '1 day' AND validator_id = ANY($1)
          AND kind = 'failover' AND attempt = 1
        GROUP BY validator_id`,
      [validatorIds],
    )) as { validator_id: string; n: number }[];
    return new Map(rows.map((m) => [m.validator_id, m.n]));
  }

  /** Records a move's attempt (a `running` row). */
  start(row: Partial<FailoverEntity>, tx: Tx): Promise<FailoverEntity> {
    return managerOf(tx).save(FailoverEntity, managerOf(tx).create(FailoverEntity, row));
  }

  /** Closes a running attempt; null if it was already closed (another round or process got there). */
  async close(
    id: string,
    status: 'done' | 'replanned' | 'failed' | 'cancelled',
    outcome: string,
    tx: Tx,
  ): Promise<FailoverEntity | null> {
    const [rows] = (await managerOf(tx).query(
      `UPDATE failovers SET status = $2, outcome = $3, finished_at = now()
        WHERE id = $1 AND status = 'running' RETURNING id`,
      [id, status, outcome],
    )) as [{ id: string }[], number];
    if (!rows.length) return null;
    return managerOf(tx).findOneBy(FailoverEntity, { id });
  }

  /** Cancels the validator's move under way, if any, so its row holds no concurrency slot. */
  async cancelRunning(validatorId: string, outcome: string, tx: Tx): Promise<void> {
    await managerOf(tx).query(
      `UPDATE failovers SET status = 'cancelled', outcome = $2, finished_at = now()
        WHERE validator_id = $1 AND status = 'running'`,
      [validatorId, outcome],
    );
  }

  /**
   * Marks the validator's move under way done; how long it took (from detection, or its start when
   * nothing detected it), how, and from where. Undefined when no move was running.
   */
  async finishRunning(
    validatorId: string,
    tx: Tx,
  ): Promise<
    | {
        seconds: number;
        method: string;
        fromZone: string | null;
        kind: MoveKind;
        fromVersion: string | null;
        toVersion: string | null;
      }
    | undefined
  > {
    const [rows] = (await managerOf(tx).query(
      `UPDATE failovers SET status = 'done', finished_at = now()
        WHERE validator_id = $1 AND status = 'running'
        RETURNING extract(epoch FROM (finished_at - coalesce(detected_at, started_at))) AS seconds,
                  method, from_zone, kind, from_version, to_version`,
      [validatorId],
    )) as [
      {
        seconds: string;
        method: string;
        from_zone: string | null;
        kind: MoveKind;
        from_version: string | null;
        to_version: string | null;
      }[],
      number,
    ];
    const done = rows[0];
    return done
      ? {
          seconds: Number(done.seconds),
          method: done.method,
          fromZone: done.from_zone,
          kind: done.kind,
          fromVersion: done.from_version,
          toVersion: done.to_version,
        }
      : undefined;
  }

  /** Every `running` move (oldest first, ≤ 1000) with its validator and target host. */
  live(): Promise<LiveMove[]> {
    return this.ds.query(
      `SELECT f.id, f.validator_id AS "validatorId", f.kind, f.attempt, f.generation,
              f.deadline_at AS "deadlineAt",
              v.state AS "validatorState", v.generation AS "validatorGeneration",
              t.instance_id AS "targetInstanceId", t.zone AS "targetZone", t.health AS "targetHealth",
              t.health_reason AS "targetHealthReason", (t.deleted_at IS NOT NULL) AS "targetDeleted",
              (t.registered_at IS NOT NULL) AS "targetRegistered",
              (t.keys_fetched_generation = f.generation) AS "targetKeys",
              coalesce((t.last_report->>'running')::boolean, false) AS "targetRunning"
         FROM failovers f
         LEFT JOIN validators v ON v.id = f.validator_id
         LEFT JOIN hosts t ON t.id = v.host_id AND t.generation = f.generation
        WHERE f.status = 'running'
        ORDER BY f.started_at
        LIMIT 1000`,
    ) as Promise<LiveMove[]>;
  }
}
