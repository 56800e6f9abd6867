import { SimApiError } from './sim-error';
import { SimState, type RunSpec, type SimHost, type SimHostContext } from './state';

const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  regionId: 'cn-hongkong',
  zoneId: 'cn-hongkong-c',
  instanceType: 'ecs.g7.2xlarge',
  imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
  vSwitchId: 'vsw-sim-c',
  securityGroupId: 'sg-sim-default',
  amount: 1,
  tags: [['snowline:host', 'h1']],
  userData: 'hello',
  ...over,
});

function setup() {
  let now = 1_000_000;
  const started: SimHostContext[] = [];
  const stopped: string[] = [];
  const state = new SimState({
    now: () => now,
    hostFactory: (ctx) => {
      started.push(ctx);
      const host: SimHost = {
        stop: () => stopped.push(ctx.instanceId),
        handle: () => Promise.resolve({ status: 200, body: {} }),
      };
      return host;
    },
  });
  const advance = (ms: number): void => {
    now += ms;
    state.tick();
  };
  return { state, started, stopped, advance };
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SimApiError) return `${err.status} ${err.code}`;
    throw err;
  }
  return 'no error';
};

describe(SimState.name, () => {
  it('should move Pending → Starting → Running on one timer heap and start the host once', () => {
    const { state, started, advance } = setup();
    const [id] = state.run(spec());
    expect(state.get(id!).status).toBe('Pending');
    advance(299);
    expect(state.get(id!).status).toBe('Pending');
    advance(1);
    expect(state.get(id!).status).toBe('Starting');
    expect(started).toHaveLength(0);
    advance(700);
    expect(state.get(id!).status).toBe('Running');
    expect(started).toEqual([
      expect.objectContaining({ instanceId: id, zoneId: 'cn-hongkong-c', userData: 'hello' }),
    ]);
    expect(state.health(state.get(id!))).toBe('OK');
    advance(10_000);
    expect(started).toHaveLength(1);
    expect(state.pendingTimers).toBe(0);
  });

  it('should scale every delay by timeScale', () => {
    let now = 0;
    const state = new SimState({ now: () => now, timeScale: 0.1 });
    const [id] = state.run(spec());
    now = 100;
    state.tick();
    expect(state.get(id!).status).toBe('Running');
  });

  it('should replay a ClientToken with the same ids and refuse different parameters', () => {
    const { state } = setup();
    const first = state.run(spec({ amount: 3 }), 'tok-1');
    expect(first).toHaveLength(3);
    expect(state.run(spec({ amount: 3 }), 'tok-1')).toEqual(first);
    expect(state.instances.size).toBe(3);
    expect(
      codeOf(() =>
        state.run(spec({ amount: 3, zoneId: 'cn-hongkong-b', vSwitchId: 'vsw-sim-b' }), 'tok-1'),
      ),
    ).toBe('400 IdempotenceParamNotMatch');
  });

  it.each([
    [{ zoneId: 'cn-hongkong-z' }, '404 InvalidZoneId.NotFound'],
    [{ vSwitchId: 'vsw-nope' }, '404 InvalidVSwitchId.NotFound'],
    [{ vSwitchId: 'vsw-sim-b' }, '400 InvalidParameter.Mismatch'],
    [{ imageId: 'img-nope' }, '404 InvalidImageId.NotFound'],
    [{ instanceType: 'ecs.t5.nano' }, '400 InvalidInstanceType.ValueNotSupported'],
    [{ securityGroupId: 'sg-nope' }, '404 InvalidSecurityGroupId.NotFound'],
    [{ regionId: 'cn-beijing' }, '404 InvalidRegionId.NotFound'],
  ])('should refuse a launch with %j as %s', (over, expected) => {
    const { state } = setup();
    expect(codeOf(() => state.run(spec(over)))).toBe(expected);
    expect(state.instances.size).toBe(0);
  });

  it('should refuse launches past the quota and where there is no stock', () => {
    const state = new SimState({ maxInstances: 2, isOutOfStock: (z) => z === 'cn-hongkong-b' });
    expect(codeOf(() => state.run(spec({ amount: 3 })))).toBe('403 QuotaExceed.ElasticQuota');
    expect(codeOf(() => state.run(spec({ zoneId: 'cn-hongkong-b', vSwitchId: 'vsw-sim-b' })))).toBe(
      '403 OperationDenied.NoStock',
    );
  });

  it('should delete only with Force while running, stopping the host, and be all-or-nothing', () => {
    const { state, stopped, advance } = setup();
    const [a, b] = state.run(spec({ amount: 2 }));
    expect(codeOf(() => state.delete([a!], true))).toBe('403 IncorrectInstanceStatus.Initializing');
    advance(1000);
    expect(codeOf(() => state.delete([a!], false))).toBe('403 IncorrectInstanceStatus');
    expect(codeOf(() => state.delete([a!, 'i-missing'], true))).toBe(
      '404 InvalidInstanceId.NotFound',
    );
    expect(state.instances.size).toBe(2);
    state.delete([a!, b!], true);
    expect(state.instances.size).toBe(0);
    expect(stopped.sort()).toEqual([a, b].sort());
  });

  it('should stop, start and reboot through the intermediate states', () => {
    const { state, started, stopped, advance } = setup();
    const [id] = state.run(spec());
    advance(1000);
    state.stop(id!);
    expect(state.get(id!).status).toBe('Stopping');
    expect(stopped).toEqual([id]);
    advance(500);
    expect(state.get(id!).status).toBe('Stopped');
    expect(codeOf(() => state.stop(id!))).toBe('403 IncorrectInstanceStatus');
    state.delete([id!], false);
    expect(state.instances.size).toBe(0);

    const [r] = state.run(spec());
    advance(1000);
    state.reboot(r!);
    advance(500);
    expect(state.get(r!).status).toBe('Starting');
    advance(700);
    expect(state.get(r!).status).toBe('Running');
    expect(started.map((s) => s.instanceId)).toEqual([id, r, r]);
  });

  it('should ignore timers of an instance deleted before they fire', () => {
    const { state, started, advance } = setup();
    const [id] = state.run(spec());
    advance(300);
    state.delete([id!], true);
    advance(5000);
    expect(started).toHaveLength(0);
  });

  it('should cut power to a zone and bring its instances back with fresh hosts', () => {
    const { state, started, stopped, advance } = setup();
    const [c] = state.run(spec());
    const [b] = state.run(spec({ zoneId: 'cn-hongkong-b', vSwitchId: 'vsw-sim-b' }));
    advance(1000);
    expect(state.powerOff('cn-hongkong-c')).toBe(1);
    expect(state.get(c!).status).toBe('Stopped');
    expect(state.health(state.get(c!))).toBe('Impaired');
    expect(state.get(c!).events[0]).toMatchObject({
      type: 'SystemFailure.Reboot',
      cycleStatus: 'Executing',
    });
    expect(state.get(b!).status).toBe('Running');
    expect(stopped).toEqual([c]);
    state.powerOn('cn-hongkong-c');
    advance(700);
    expect(state.get(c!).status).toBe('Running');
    expect(state.health(state.get(c!))).toBe('OK');
    expect(state.get(c!).events[0]?.cycleStatus).toBe('Executed');
    expect(started.filter((s) => s.instanceId === c)).toHaveLength(2);
  });

  it('should keep a host with a disk across a power loss and refuse to act on the dark zone', () => {
    let now = 0;
    const calls: string[] = [];
    const state = new SimState({
      now: () => now,
      hostFactory: (ctx) => {
        calls.push(`create ${ctx.instanceId}`);
        return {
          stop: () => calls.push('stop'),
          powerOff: () => calls.push('powerOff'),
          powerOn: () => calls.push('powerOn'),
          handle: () => Promise.resolve({ status: 200, body: null }),
        };
      },
    });
    const [id] = state.run(spec());
    now = 1000;
    state.tick();
    state.powerOff('cn-hongkong-c');
    expect(state.get(id!).host).toBeNull();
    for (const op of [
      () => state.delete([id!], true),
      () => state.start(id!),
      () => state.stop(id!),
    ]) {
      expect(codeOf(op)).toBe('503 ServiceUnavailable');
    }
    state.powerOn('cn-hongkong-c');
    now = 2000;
    state.tick();
    expect(state.get(id!).host).not.toBeNull();
    state.delete([id!], true);
    expect(calls).toEqual([`create ${id}`, 'powerOff', 'powerOn', 'stop']);
  });

  it('should hand hosts a fetch that fails while their zone is partitioned', async () => {
    let cut = true;
    let ctx: SimHostContext | undefined;
    let now = 0;
    const state = new SimState({
      now: () => now,
      isPartitioned: () => cut,
      hostFactory: (c) => {
        ctx = c;
        return null;
      },
    });
    state.run(spec());
    now = 1000;
    state.tick();
    await expect(ctx!.fetch('http://127.0.0.1:9/')).rejects.toThrow('fetch failed');
    cut = false;
    await expect(ctx!.fetch('http://127.0.0.1:9/')).rejects.toThrow();
  });

  it('should stop a host that finishes starting after its instance was deleted', async () => {
    let now = 0;
    const stopped: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const state = new SimState({
      now: () => now,
      hostFactory: async (c) => {
        await gate;
        return {
          stop: () => stopped.push(c.instanceId),
          handle: () => Promise.resolve({ status: 200, body: null }),
        };
      },
    });
    const [id] = state.run(spec());
    now = 1000;
    state.tick();
    state.delete([id!], true);
    release();
    await new Promise((r) => setImmediate(r));
    expect(stopped).toEqual([id]);
  });
});
