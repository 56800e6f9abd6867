import { ACTIONS } from './actions';
import { FaultRegistry } from './faults';
import { SimState, type SimHost } from './state';

const REGION = { RegionId: 'cn-hongkong' };

function setup() {
  let now = 1_000_000;
  const alive = new Set<string>();
  const state = new SimState({
    now: () => now,
    hostFactory: (ctx) => {
      alive.add(ctx.instanceId);
      const host: SimHost = {
        stop: () => alive.delete(ctx.instanceId),
        handle: () => Promise.resolve({ status: 200, body: {} }),
      };
      return host;
    },
  });
  const faults = new FaultRegistry(state);
  const advance = (ms: number): void => {
    now += ms;
    state.tick();
  };
  const launch = (zone = 'cn-hongkong-c'): string => {
    const [id] = state.run({
      regionId: 'cn-hongkong',
      zoneId: zone,
      instanceType: 'ecs.g7.2xlarge',
      imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
      vSwitchId: `vsw-sim-${zone.slice(-1)}`,
      securityGroupId: 'sg-sim-default',
      amount: 1,
      tags: [],
      userData: '',
    });
    advance(1000);
    expect(state.get(id!).status).toBe('Running');
    return id!;
  };
  /** What each of the three Describe actions says about one instance. */
  const described = (id: string): string[] => {
    const q = { ...REGION, 'InstanceId.1': id };
    const di = ACTIONS.DescribeInstances!(state, { ...REGION, InstanceIds: JSON.stringify([id]) });
    const ds = ACTIONS.DescribeInstanceStatus!(state, q);
    const fs = ACTIONS.DescribeInstancesFullStatus!(state, q);
    const pick = (v: unknown, path: string[]): string =>
      String(path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], v) ?? 'absent');
    return [
      pick(di, ['Instances', 'Instance', '0', 'Status']),
      pick(ds, ['InstanceStatuses', 'InstanceStatus', '0', 'Status']),
      pick(fs, ['InstanceFullStatusSet', 'InstanceFullStatusType', '0', 'Status', 'Name']),
    ];
  };
  return { state, faults, advance, launch, described, alive };
}

describe(FaultRegistry.name, () => {
  describe('instances-vanish', () => {
    it.each([
      ['a zone', { zone: 'cn-hongkong-c' }, [true, true, false]],
      ['listed instances', 'first', [true, false, false]],
      ['every instance when no target is given', {}, [true, true, true]],
    ])(
      'should make %s vanish from every Describe, hosts with them, for good',
      (_name, target, gone) => {
        const { state, faults, launch, described, alive } = setup();
        const ids = [launch(), launch(), launch('cn-hongkong-b')];
        const fault = faults.add({
          kind: 'instances-vanish',
          ...(target === 'first' ? { instanceIds: [ids[0]] } : target),
        });
        expect(fault.hits).toBe(gone.filter(Boolean).length);
        ids.forEach((id, i) => {
          expect(described(id)).toEqual(
            gone[i] ? ['absent', 'absent', 'absent'] : ['Running', 'Running', 'Running'],
          );
          expect(alive.has(id)).toBe(!gone[i]);
        });
        faults.remove(fault.id);
        expect(state.instances.size).toBe(gone.filter((g) => !g).length);
      },
    );
  });

  describe('stopped-late', () => {
    it('should hold every Describe action at Stopping for exactly delayMs after the stop', () => {
      const { state, faults, advance, launch, described, alive } = setup();
      const id = launch();
      faults.add({ kind: 'stopped-late', zone: 'cn-hongkong-c', delayMs: 5000 });
      state.stop(id);
      advance(500);
      expect(state.get(id).status).toBe('Stopped');
      expect(alive.has(id)).toBe(false);
      expect(described(id)).toEqual(['Stopping', 'Stopping', 'Stopping']);
      const filtered = ACTIONS.DescribeInstances!(state, { ...REGION, Status: 'Stopped' });
      expect(filtered).toMatchObject({ TotalCount: 0 });
      advance(4999);
      expect(described(id)).toEqual(['Stopping', 'Stopping', 'Stopping']);
      advance(1);
      expect(described(id)).toEqual(['Stopped', 'Stopped', 'Stopped']);
    });

    it('should say Running after a power loss, and only for its targets', () => {
      const { faults, launch, described } = setup();
      const a = launch('cn-hongkong-c');
      const b = launch('cn-hongkong-c');
      faults.add({ kind: 'stopped-late', instanceIds: [a], delayMs: 5000 });
      faults.add({ kind: 'zone-power-loss', zone: 'cn-hongkong-c' });
      expect(described(a)).toEqual(['Running', 'Running', 'Running']);
      expect(described(b)).toEqual(['Stopped', 'Stopped', 'Stopped']);
    });

    it('should answer reportAs when given', () => {
      const { state, faults, advance, launch, described } = setup();
      const id = launch();
      faults.add({ kind: 'stopped-late', instanceId: id, delayMs: 5000, reportAs: 'Running' });
      state.stop(id);
      advance(500);
      expect(described(id)).toEqual(['Running', 'Running', 'Running']);
    });

    it('should not hide a stop that happened before the fault, and end when removed', () => {
      const { state, faults, advance, launch, described } = setup();
      const id = launch();
      state.stop(id);
      // The stop is a millisecond older than the fault.
      advance(501);
      const f = faults.add({ kind: 'stopped-late', instanceId: id, delayMs: 5000 });
      expect(described(id)).toEqual(['Stopped', 'Stopped', 'Stopped']);
      state.start(id);
      advance(1000);
      state.stop(id);
      advance(500);
      expect(described(id)).toEqual(['Stopping', 'Stopping', 'Stopping']);
      faults.remove(f.id);
      expect(described(id)).toEqual(['Stopped', 'Stopped', 'Stopped']);
    });

    it('should refuse a fault with neither zone nor instanceIds, or an unknown zone', () => {
      const { faults } = setup();
      expect(() => faults.add({ kind: 'stopped-late', delayMs: 1000 })).toThrow('instanceIds');
      expect(() =>
        faults.add({ kind: 'stopped-late', zone: 'cn-hongkong-x', delayMs: 1000 }),
      ).toThrow('unknown zone');
    });
  });

  describe('stop-lag', () => {
    it('should answer a stop at once and keep the host running for delayMs', () => {
      const { state, faults, advance, launch, described, alive } = setup();
      const id = launch();
      faults.add({ kind: 'stop-lag', zone: 'cn-hongkong-c', delayMs: 5000 });
      expect(state.stop(id)).toEqual({ previous: 'Running', current: 'Stopping' });
      advance(4999);
      expect(alive.has(id)).toBe(true);
      expect(state.get(id).host).not.toBeNull();
      expect(described(id)).toEqual(['Stopping', 'Stopping', 'Stopping']);
      advance(1);
      expect(alive.has(id)).toBe(false);
      expect(described(id)).toEqual(['Stopped', 'Stopped', 'Stopped']);
    });

    it('should never make a stop faster than the normal Stopping time', () => {
      const { state, faults, advance, launch } = setup();
      const id = launch();
      faults.add({ kind: 'stop-lag', instanceId: id, delayMs: 1 });
      state.stop(id);
      advance(499);
      expect(state.get(id).status).toBe('Stopping');
      advance(1);
      expect(state.get(id).status).toBe('Stopped');
    });

    it('should forget a deleted instance at once while its host runs on for delayMs', () => {
      const { state, faults, advance, launch, described, alive } = setup();
      const id = launch();
      const other = launch('cn-hongkong-b');
      const f = faults.add({ kind: 'stop-lag', instanceIds: [id], delayMs: 5000 });
      state.delete([id, other], true);
      expect(described(id)).toEqual(['absent', 'absent', 'absent']);
      expect(alive.has(id)).toBe(true);
      expect(alive.has(other)).toBe(false);
      expect([...state.lingering.keys()]).toEqual([id]);
      // Removing the fault does not cut short a lag already under way.
      faults.remove(f.id);
      advance(4999);
      expect(alive.has(id)).toBe(true);
      advance(1);
      expect(alive.has(id)).toBe(false);
      expect(state.lingering.size).toBe(0);
    });

    it('should let a power loss or closing the simulator end lagging hosts', () => {
      const { state, faults, launch, alive } = setup();
      const stopping = launch('cn-hongkong-c');
      const deleted = launch('cn-hongkong-c');
      const elsewhere = launch('cn-hongkong-d');
      faults.add({ kind: 'stop-lag', zone: 'cn-hongkong-c', delayMs: 60_000 });
      faults.add({ kind: 'stop-lag', zone: 'cn-hongkong-d', delayMs: 60_000 });
      state.stop(stopping);
      state.delete([deleted, elsewhere], true);
      expect([...alive].sort()).toEqual([stopping, deleted, elsewhere].sort());
      faults.add({ kind: 'zone-power-loss', zone: 'cn-hongkong-c' });
      expect([...alive]).toEqual([elsewhere]);
      state.stopAllHosts();
      expect(alive.size).toBe(0);
      expect(state.lingering.size).toBe(0);
    });
  });
});
