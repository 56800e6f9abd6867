/**
 * The move watchdog's rule, pure: what to do with one live move of a validator's identity (a
 * failover, or a planned move of a rolling upgrade and its rollback). A move ends — done, cancelled,
 * re-planned onto another target, rolled back, or failed — and never lingers: a lingering `running`
 * row would hold one of the concurrency cap's slots for good.
 */
import type { HealthState } from './health';
import type { ValidatorState } from './validator-state';

export const MOVE_KINDS = ['failover', 'upgrade', 'rollback'] as const;
export type MoveKind = (typeof MOVE_KINDS)[number];

export const MOVE_STATUSES = ['running', 'done', 'replanned', 'failed', 'cancelled'] as const;
export type MoveStatus = (typeof MOVE_STATUSES)[number];

export interface MoveFacts {
  kind: MoveKind;
  /** 1 for the first target, then one more per re-plan. */
  attempt: number;
  generation: number;
  deadlineAt: number;
}

export interface MoveValidatorFacts {
  state: ValidatorState;
  generation: number;
}

/** The host taking the identity over (the validator's current host at the move's generation). */
export interface MoveTargetFacts {
  instanceId: string | null;
  zone: string;
  health: HealthState;
  healthReason: string | null;
  /** Deleted, or the cloud never launched it. */
  gone: boolean;
  registered: boolean;
  keysDelivered: boolean;
  /** The agent's last report says its node runs (it may still be bootstrapping). */
  nodeRunning: boolean;
}

export interface MoveSettings {
  maxAttempts: number;
}

export type MoveVerdict =
  | { action: 'wait' }
  | { action: 'done' | 'cancel' | 'replan' | 'rollback' | 'fail'; reason: string };

const ENDED: readonly ValidatorState[] = ['retiring', 'retired'];

export function judgeMove(
  move: MoveFacts,
  v: MoveValidatorFacts | null,
  target: MoveTargetFacts | null,
  now: number,
  s: MoveSettings,
): MoveVerdict {
  if (!v) return { action: 'cancel', reason: 'the validator no longer exists' };
  if (ENDED.includes(v.state)) return { action: 'cancel', reason: 'retired during the move' };
  if (v.generation > move.generation)
    return { action: 'cancel', reason: `superseded by generation ${v.generation}` };
  // Past failing_over at the move's own generation: the target took over (the row was left behind).
  if (v.state === 'active' || v.state === 'degraded' || v.state === 'syncing')
    return { action: 'done', reason: 'the identity runs on its target' };
  if (v.state !== 'failing_over')
    return { action: 'cancel', reason: `the validator left the move (${v.state})` };

  const where = target ? `${target.instanceId ?? 'a new instance'} in ${target.zone}` : '';
  let problem: string | null = null;
  if (target && target.gone) problem = `the target ${where} is gone`;
  else if (target && target.health === 'unhealthy')
    problem = `the target ${where} failed: ${target.healthReason ?? 'unhealthy'}`;
  else if (now >= move.deadlineAt && move.kind === 'upgrade') {
    // A planned move goes onto a synced standby: its new node must be healthy and validating by the
    // deadline (the validator left failing_over), or the release is bad — however far it got.
    const step = !target
      ? 'no standby taken'
      : !target.keysDelivered
        ? `${where} has not received the keys`
        : !target.nodeRunning
          ? `the node on ${where} is not running`
          : `the node on ${where} did not become healthy and bootstrapped`;
    problem = `the new version did not come up by the deadline: ${step}`;
  } else if (now >= move.deadlineAt) {
    // A target that holds the keys and runs the node is bootstrapping: progress, however slow (a
    // fresh launch syncs for hours on mainnet). Only a move that got no further is stuck.
    const progressing =
      target !== null && target.keysDelivered && target.nodeRunning && target.health === 'healthy';
    if (!progressing) {
      const step = !target
        ? 'no instance launched yet'
        : !target.registered
          ? `its agent on ${where} never registered`
          : !target.keysDelivered
            ? `${where} has not received the keys`
            : `the node on ${where} is not running`;
      problem = `no progress by the deadline: ${step}`;
    }
  }
  if (problem === null) return { action: 'wait' };
  // An upgrade is not retried onto another upgraded host: it moves back to the version it left, and
  // the rollout halts (the rollback itself is re-planned like a failover).
  if (move.kind === 'upgrade') return { action: 'rollback', reason: problem };
  if (move.attempt < s.maxAttempts) return { action: 'replan', reason: problem };
  return {
    action: 'fail',
    reason: `gave up after ${move.attempt} attempt${move.attempt === 1 ? '' : 's'}: ${problem}`,
  };
}
