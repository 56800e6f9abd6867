import {
  judgeMove,
  type MoveFacts,
  type MoveTargetFacts,
  type MoveValidatorFacts,
  type MoveVerdict,
} from './moves';

const NOW = 1_800_000_000_000;
const move = (over: Partial<MoveFacts> = {}): MoveFacts => ({
  kind: 'failover',
  attempt: 1,
  generation: 4,
  deadlineAt: NOW + 60_000,
  ...over,
});
const moving = (over: Partial<MoveValidatorFacts> = {}): MoveValidatorFacts => ({
  state: 'failing_over',
  generation: 4,
  ...over,
});
const target = (over: Partial<MoveTargetFacts> = {}): MoveTargetFacts => ({
  instanceId: 'i-target',
  zone: 'cn-hongkong-c',
  health: 'healthy',
  healthReason: 'lease fresh, instance running',
  gone: false,
  registered: true,
  keysDelivered: false,
  nodeRunning: false,
  ...over,
});
const settings = { maxAttempts: 3 };

describe(judgeMove.name, () => {
  it.each<[string, MoveValidatorFacts | null, MoveVerdict]>([
    [
      'the validator was deleted',
      null,
      { action: 'cancel', reason: 'the validator no longer exists' },
    ],
    [
      'retiring',
      moving({ state: 'retiring' }),
      { action: 'cancel', reason: 'retired during the move' },
    ],
    [
      'retired',
      moving({ state: 'retired' }),
      { action: 'cancel', reason: 'retired during the move' },
    ],
    [
      'a later generation (retire or another move fenced it)',
      moving({ generation: 5 }),
      { action: 'cancel', reason: 'superseded by generation 5' },
    ],
    [
      'active: the row was left behind',
      moving({ state: 'active' }),
      { action: 'done', reason: 'the identity runs on its target' },
    ],
    [
      'degraded after taking over',
      moving({ state: 'degraded' }),
      { action: 'done', reason: 'the identity runs on its target' },
    ],
    [
      'failed by something else',
      moving({ state: 'failed' }),
      { action: 'cancel', reason: 'the validator left the move (failed)' },
    ],
  ])('should end a move whose validator is %s', (_w, v, want) => {
    expect(judgeMove(move(), v, target(), NOW, settings)).toEqual(want);
  });

  it('should end a move of a retiring validator even when its target is dead and its deadline past', () => {
    expect(
      judgeMove(
        move({ deadlineAt: NOW - 1 }),
        moving({ state: 'retiring' }),
        target({ health: 'unhealthy', gone: true }),
        NOW,
        settings,
      ),
    ).toEqual({ action: 'cancel', reason: 'retired during the move' });
  });

  it.each<[string, MoveTargetFacts | null, number]>([
    ['a healthy target waiting for its keys', target(), NOW],
    ['no instance launched yet, inside the deadline', null, NOW + 59_999],
    ['a target still starting (unknown)', target({ health: 'unknown', registered: false }), NOW],
    ['a suspect target (one missed renewal)', target({ health: 'suspect' }), NOW],
    [
      'a bootstrapping target past the deadline: keys, node running, healthy',
      target({ keysDelivered: true, nodeRunning: true }),
      NOW + 3_600_000,
    ],
  ])('should wait for %s', (_w, t, now) => {
    expect(judgeMove(move(), moving(), t, now, settings)).toEqual({ action: 'wait' });
  });

  it.each<[string, MoveTargetFacts | null, number, string]>([
    [
      'a target that died',
      target({ health: 'unhealthy', healthReason: 'ECS reports the instance Stopped' }),
      NOW,
      'the target i-target in cn-hongkong-c failed: ECS reports the instance Stopped',
    ],
    [
      'a target that is gone',
      target({ gone: true }),
      NOW,
      'the target i-target in cn-hongkong-c is gone',
    ],
    [
      'a launch that never produced an instance by the deadline',
      null,
      NOW + 60_000,
      'no progress by the deadline: no instance launched yet',
    ],
    [
      'an agent that never registered by the deadline',
      target({ health: 'unknown', registered: false, instanceId: 'i-new' }),
      NOW + 60_000,
      'no progress by the deadline: its agent on i-new in cn-hongkong-c never registered',
    ],
    [
      'a target still without keys at the deadline',
      target(),
      NOW + 60_000,
      'no progress by the deadline: i-target in cn-hongkong-c has not received the keys',
    ],
    [
      'keys delivered but no node running at the deadline',
      target({ keysDelivered: true }),
      NOW + 60_000,
      'no progress by the deadline: the node on i-target in cn-hongkong-c is not running',
    ],
    [
      'a bootstrapping target that turned suspect past the deadline',
      target({ keysDelivered: true, nodeRunning: true, health: 'suspect' }),
      NOW + 60_000,
      'no progress by the deadline: the node on i-target in cn-hongkong-c is not running',
    ],
  ])('should re-plan %s', (_w, t, now, reason) => {
    expect(judgeMove(move(), moving(), t, now, settings)).toEqual({ action: 'replan', reason });
  });

  it.each<[number, MoveVerdict['action']]>([
    [1, 'replan'],
    [2, 'replan'],
    [3, 'fail'],
    [4, 'fail'],
  ])('should spend at most 3 attempts (attempt %s)', (attempt, action) => {
    const d = judgeMove(move({ attempt }), moving(), target({ gone: true }), NOW, settings);
    expect(d.action).toBe(action);
  });

  it('should say why it gave up, in words a person can act on', () => {
    expect(
      judgeMove(move({ attempt: 3, deadlineAt: NOW - 1 }), moving(), null, NOW, settings),
    ).toEqual({
      action: 'fail',
      reason: 'gave up after 3 attempts: no progress by the deadline: no instance launched yet',
    });
    expect(
      judgeMove(move({ attempt: 1 }), moving(), target({ gone: true }), NOW, { maxAttempts: 1 }),
    ).toEqual({
      action: 'fail',
      reason: 'gave up after 1 attempt: the target i-target in cn-hongkong-c is gone',
    });
  });

  describe('an upgrade (a planned move onto an upgraded standby)', () => {
    const up = (over: Partial<MoveFacts> = {}) => move({ kind: 'upgrade', ...over });
    it.each<[string, MoveFacts, MoveTargetFacts | null, MoveVerdict]>([
      ['before the deadline, keys not yet delivered', up(), target(), { action: 'wait' }],
      [
        'past the deadline, node running but not healthy (a bad build)',
        up({ deadlineAt: NOW - 1 }),
        target({ keysDelivered: true, nodeRunning: true }),
        {
          action: 'rollback',
          reason:
            'the new version did not come up by the deadline: the node on i-target in cn-hongkong-c did not become healthy and bootstrapped',
        },
      ],
      [
        'past the deadline, never got the keys',
        up({ deadlineAt: NOW - 1 }),
        target(),
        {
          action: 'rollback',
          reason:
            'the new version did not come up by the deadline: i-target in cn-hongkong-c has not received the keys',
        },
      ],
      [
        'the target failed before the deadline',
        up(),
        target({ health: 'unhealthy', healthReason: 'lease expired' }),
        {
          action: 'rollback',
          reason: 'the target i-target in cn-hongkong-c failed: lease expired',
        },
      ],
      [
        'a third attempt is still not a re-plan: upgrades roll back',
        up({ attempt: 3, deadlineAt: NOW - 1 }),
        target({ keysDelivered: true, nodeRunning: true }),
        expect.objectContaining({ action: 'rollback' }) as MoveVerdict,
      ],
    ])('%s', (_w, m, t, want) => {
      expect(judgeMove(m, moving(), t, NOW, settings)).toEqual(want);
    });

    it('should be done once the validator runs healthy on the upgraded host', () => {
      expect(
        judgeMove(
          up({ deadlineAt: NOW - 1 }),
          moving({ state: 'active' }),
          target(),
          NOW,
          settings,
        ),
      ).toEqual({
        action: 'done',
        reason: 'the identity runs on its target',
      });
    });

    it('should re-plan a rollback like a failover, and fail it after the last attempt', () => {
      const rb = move({ kind: 'rollback', deadlineAt: NOW - 1 });
      expect(judgeMove(rb, moving(), target(), NOW, settings).action).toBe('replan');
      expect(judgeMove({ ...rb, attempt: 3 }, moving(), target(), NOW, settings).action).toBe(
        'fail',
      );
    });
  });
});
