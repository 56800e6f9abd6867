import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHostKeys } from '@snowline/agent';
import { FaultRegistry } from './faults';
import { SIM_STATE_FILE, SimStore } from './persistence';
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
  userData: '{"snowline":2}',
  ...over,
});

/** A region whose hosts keep `{ key }` on their disk: what they were booted with, or a new one. */
function region(opts: { zones?: string[] } = {}) {
  let now = 1_000_000;
  const booted: SimHostContext[] = [];
  const state = new SimState({
    now: () => now,
    zones: opts.zones,
    hostFactory: (ctx) => {
      booted.push(ctx);
      const disk = (ctx.disk as { key: string } | null) ?? { key: `key-of-${ctx.instanceId}` };
      const host: SimHost = {
        stop: () => undefined,
        handle: () => Promise.resolve({ status: 200, body: {} }),
        powerOff: () => undefined,
        powerOn: () => undefined,
        disk: () => disk,
      };
      return host;
    },
  });
  const advance = (ms: number): void => {
    now += ms;
    state.tick();
  };
  return { state, booted, advance };
}

describe(SimStore.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-sim-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should bring back instances, statuses, tags, UserData, disks and the identity certificate', async () => {
    const a = region();
    const running = a.state.run(
      spec({ tags: [['snowline:host', 'h-run']], userData: 'ud-run' }),
    )[0]!;
    const stopped = a.state.run(spec({ zoneId: 'cn-hongkong-b', vSwitchId: 'vsw-sim-b' }))[0]!;
    a.advance(1000);
    a.state.stop(stopped);
    a.advance(500);
    const late = a.state.run(spec({ userData: 'ud-late' }))[0]!;
    const cert = a.state.identitySigner.certPem;
    const identityBefore = a.state.identityDocument(a.state.get(running));
    const store = new SimStore(a.state, dir);
    await store.flush();
    a.state.stopAllHosts();

    const b = region();
    expect(new SimStore(b.state, dir).load()).toEqual({ loaded: true, instances: 3 });
    const r = b.state.get(running);
    expect(r.status).toBe('Running');
    expect([...r.tags]).toEqual([['snowline:host', 'h-run']]);
    expect(r.userData).toBe('ud-run');
    expect(b.state.identityDocument(r)).toEqual(identityBefore);
    expect(b.state.get(stopped).status).toBe('Stopped');
    expect(b.state.identitySigner.certPem).toBe(cert);
    // The Running instance booted again at once, from the disk its host left.
    expect(b.booted.map((c) => [c.instanceId, c.disk])).toEqual([
      [running, { key: `key-of-${running}` }],
    ]);
    // One caught mid-launch finishes it; the stopped one keeps its disk for its next start.
    expect(b.state.get(late).status).toBe('Starting');
    b.advance(700);
    expect(b.state.get(late).status).toBe('Running');
    b.state.start(stopped);
    b.advance(700);
    expect(b.booted.find((c) => c.instanceId === stopped)?.disk).toEqual({
      key: `key-of-${stopped}`,
    });
    // New instances do not reuse the old ones' sequence numbers or addresses.
    const fresh = b.state.get(b.state.run(spec())[0]!);
    expect(fresh.seq).toBe(4);
    expect(new Set([...b.state.instances.values()].map((i) => i.privateIp)).size).toBe(4);
  });

  it('should replay a ClientToken used before the restart', async () => {
    const a = region();
    const ids = a.state.run(spec(), 'token-1');
    await new SimStore(a.state, dir).flush();
    const b = region();
    new SimStore(b.state, dir).load();
    expect(b.state.run(spec(), 'token-1')).toEqual(ids);
    expect(b.state.instances.size).toBe(1);
  });

  it('should bring back instances a fault held down, as when the fault ends (faults do not survive)', async () => {
    const a = region();
    const faults = new FaultRegistry(a.state);
    const [lost, failed] = [
      a.state.run(spec())[0]!,
      a.state.run(spec({ zoneId: 'cn-hongkong-b', vSwitchId: 'vsw-sim-b' }))[0]!,
    ];
    a.advance(1000);
    faults.add({ kind: 'zone-power-loss', zone: 'cn-hongkong-c' });
    faults.add({ kind: 'instance-failure', instanceId: failed });
    await new SimStore(a.state, dir).flush();

    const b = region();
    new SimStore(b.state, dir).load();
    for (const id of [lost, failed]) {
      expect(b.state.get(id).status).toBe('Starting');
      expect(b.state.health(b.state.get(id))).toBe('Initializing');
      expect(b.state.get(id).events.every((e) => e.cycleStatus === 'Executed')).toBe(true);
    }
    b.advance(700);
    expect(b.state.get(lost).status).toBe('Running');
    expect(b.booted.map((c) => c.instanceId).sort()).toEqual([lost, failed].sort());
  });

  it.each([
    ['--reset', { reset: true, zones: undefined }, 'reset'],
    ['another region’s zones', { reset: false, zones: ['cn-hongkong-b'] }, 'other region'],
  ])('should start empty on %s', async (_name, opts, reason) => {
    const a = region();
    a.state.run(spec());
    await new SimStore(a.state, dir).flush();
    const b = region({ zones: opts.zones });
    expect(new SimStore(b.state, dir).load(opts.reset)).toMatchObject({ loaded: false, reason });
    expect(b.state.instances.size).toBe(0);
  });

  it('should start empty on a file it cannot read, and on none', () => {
    const b = region();
    expect(new SimStore(b.state, dir).load()).toEqual({ loaded: false, reason: 'no file' });
    writeFileSync(join(dir, SIM_STATE_FILE), '{"version":1,"region"');
    expect(new SimStore(b.state, dir).load()).toMatchObject({
      loaded: false,
      reason: 'unreadable',
    });
    expect(b.state.instances.size).toBe(0);
  });

  it('should write while changes keep coming (bounded), atomically', async () => {
    const a = region();
    const store = new SimStore(a.state, dir, { debounceMs: 30, maxDelayMs: 100 });
    a.state.onChange = () => store.changed();
    const file = join(dir, SIM_STATE_FILE);
    const started = Date.now();
    // Changes every 10 ms never leave 30 ms of quiet: the bound writes anyway.
    while (Date.now() - started < 250) {
      a.state.run(spec());
      await new Promise((r) => setTimeout(r, 10));
    }
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text).instances.length).toBeGreaterThan(0);
    await store.close();
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { instances: unknown[] };
    expect(saved.instances).toHaveLength(a.state.instances.size);
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual([SIM_STATE_FILE]);
  });

  it('should keep the host keys an agent host saved', async () => {
    const keys = { ...generateHostKeys(), boundHostId: '6f9a3c1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b' };
    const a = region();
    const id = a.state.run(spec())[0]!;
    a.advance(1000);
    a.state.get(id).host!.disk = () => ({ hostKeys: keys });
    await new SimStore(a.state, dir).flush();
    const b = region();
    new SimStore(b.state, dir).load();
    expect(b.booted[0]?.disk).toEqual({ hostKeys: keys });
  });
});
