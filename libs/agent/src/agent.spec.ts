import { generateIdentity, GeneratedIdentity } from '@snowline/avalanche';
import { Agent, AgentOptions, effectiveStopBudgetMs } from './agent';
import { SimulatedNodeDriver } from './simulated-node-driver';
import {
  generateHostKeys,
  hostPublicKeys,
  keyFingerprint,
  keysAad,
  memoryHostKeyStore,
  parsePublicKey,
  parseSignatureHeader,
  sealToHost,
  verifyRequestSignature,
} from './host-credential';
import { instanceIdentityAudience, LeaseRequest, LeaseResponse, UserData } from './protocol';
import { ReleaseChecksumError } from './release';

/** Manual clock + timers: advance() runs due timers in order, letting promises settle in between. */
class FakeClock {
  t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  timers = {
    setTimeout: (fn: () => void, ms: number) => {
      const id = ++this.seq;
      this.pending.set(id, { at: this.t + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => void this.pending.delete(id as number),
  };
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      const next = [...this.pending.entries()].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next || next[1].at > target) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await settle();
  }
  get timerCount(): number {
    return this.pending.size;
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

type Reply = { status: number; body: unknown } | 'network-error' | 'connection-reset';

/** A scripted control plane behind an injected fetch. */
class FakeControlPlane {
  calls: { path: string; body: Record<string, unknown>; auth: string | null }[] = [];
  register: () => Reply = () => ({
    status: 200,
    body: { hostId: HOST, leaseTtlSeconds: 45, renewIntervalSeconds: 10 },
  });
  lease: (req: LeaseRequest) => Reply = () => ({ status: 200, body: standby() });
  keys: (req: { generation: number }) => Reply = () => ({ status: 410, body: {} });
  stopped: (req: { generation: number }) => Reply = () => ({ status: 404, body: {} });

  fetch = (async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    this.calls.push({ path, body, auth: new Headers(init.headers).get('authorization') });
    const handler =
      path === '/v1/agent/register'
        ? this.register
        : path === '/v1/agent/lease'
          ? this.lease
          : path === '/v1/agent/stopped'
            ? this.stopped
            : this.keys;
    const r = (handler as (b: unknown) => Reply)(body);
    if (r === 'network-error') throw new TypeError('fetch failed');
    if (r === 'connection-reset')
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      });
    return new Response(r.status === 204 ? null : JSON.stringify(r.body), { status: r.status });
  }) as unknown as typeof fetch;

  count(path: string): number {
    return this.calls.filter((c) => c.path === path).length;
  }
  lastLease(): Record<string, unknown> {
    return this.calls.filter((c) => c.path === '/v1/agent/lease').at(-1)!.body;
  }
}

const HOST = '6f1c8a1e-6d0c-4f39-8c55-0a3f1c2b9d10';
const VALIDATOR = '0b6e2f0e-0b1b-4b8e-9b7e-3d2b5f0c1a22';
const userData: UserData = {
  snowline: 1,
  controlPlaneUrl: 'http://cp.test',
  hostId: HOST,
  bootstrapToken: 'x'.repeat(40),
};
const standby = (): LeaseResponse => ({
  role: 'standby',
  assignment: null,
  leaseExpiresAt: new Date().toISOString(),
  leaseTtlSeconds: 45,
});
const assigned = (generation: number, nodeId: string): LeaseResponse => ({
  role: 'assigned',
  assignment: { validatorId: VALIDATOR, generation, nodeId },
  leaseExpiresAt: new Date().toISOString(),
  leaseTtlSeconds: 45,
});
const keysBody = (id: GeneratedIdentity, generation: number) => ({
  generation,
  stakerCrt: id.stakerCrt,
  stakerKey: id.stakerKey,
  signerKey: id.signerKey.toString('base64'),
});

describe(effectiveStopBudgetMs.name, () => {
  it.each([
    [45_000, 10_000, undefined, 10_000], // config's default: a quarter of the TTL, at most 10 s
    [8_000, 2_000, undefined, 2_000],
    [45_000, 10_000, 5_000, 5_000],
    [45_000, 10_000, 0, 0],
    [45_000, 10_000, 35_000, 17_500], // must be shorter than TTL − renew: half of it instead
    [10_000, 12_000, 1_000, 0], // nonsense TTL: no budget rather than a negative one
  ])('should give TTL %i, renew %i, configured %p → %i', (ttl, renew, configured, expected) => {
    expect(effectiveStopBudgetMs(ttl, renew, configured)).toBe(expected);
  });
});

describe(Agent.name, () => {
  let clock: FakeClock;
  let cp: FakeControlPlane;
  let driver: SimulatedNodeDriver;
  let logs: { msg: string; fields?: object }[];
  let agent: Agent;
  let id: GeneratedIdentity;

  beforeAll(async () => {
    id = await generateIdentity();
  });
  beforeEach(() => {
    clock = new FakeClock();
    cp = new FakeControlPlane();
    driver = new SimulatedNodeDriver({ bootstrapMs: 1_000, now: clock.now });
    logs = [];
    agent = new Agent({
      userData,
      instanceId: 'i-abc',
      driver,
      fetch: cp.fetch,
      now: clock.now,
      timers: clock.timers,
      log: (msg, fields) => logs.push({ msg, fields }),
      random: () => 0.5,
    });
  });
  afterEach(async () => {
    await agent.stop();
  });

  const running = async () => (await driver.report()).running;

  it('should register with the bootstrap token, retrying with back-off until it succeeds', async () => {
    let failures = 3;
    cp.register = () =>
      failures-- > 0 ? (failures === 1 ? 'network-error' : { status: 503, body: {} }) : cp_ok();
    const cp_ok = () => ({
      status: 200,
      body: { hostId: HOST, leaseTtlSeconds: 45, renewIntervalSeconds: 10 },
    });
    agent.start();
    await clock.advance(0);
    expect(agent.state().registered).toBe(false);
    await clock.advance(10_000);
    expect(cp.count('/v1/agent/register')).toBe(4);
    expect(agent.state().registered).toBe(true);
    expect(cp.calls[0]).toMatchObject({
      body: { hostId: HOST, instanceId: 'i-abc' },
      auth: `Bearer ${userData.bootstrapToken}`,
    });
    expect(cp.count('/v1/agent/lease')).toBeGreaterThanOrEqual(1);
  });

  it('should register on a clock with fractions of a millisecond, as the real one has', async () => {
    let drift = 0; // every reading a little later, by a fraction: performance.now() does that
    const fractional = new Agent({
      userData,
      instanceId: 'i-frac',
      driver,
      fetch: cp.fetch,
      now: () => clock.now() + (drift += 0.375),
      timers: clock.timers,
      log: (msg, fields) => logs.push({ msg, fields }),
      random: () => 0.5,
    });
    fractional.start();
    try {
      await clock.advance(0);
      await settle();
      expect(fractional.state().registered).toBe(true);
      expect(logs.map((l) => l.msg)).not.toContain('control plane unreachable');
    } finally {
      await fractional.stop();
    }
  });

  it('should retry a renewal once on a reset connection, and only once', async () => {
    let resets = 1;
    cp.lease = () => (resets-- > 0 ? 'connection-reset' : { status: 200, body: standby() });
    agent.start();
    await clock.advance(0);
    await settle();
    expect(cp.count('/v1/agent/lease')).toBe(2); // the reset one, then one on a new connection
    expect(agent.state().lastRenewalAt).toBe(0); // counted from the first attempt's start
    expect(logs.map((l) => l.msg)).toContain('control plane connection reset, retrying once');
    const auths = cp.calls.filter((c) => c.path === '/v1/agent/lease').map((c) => c.auth);
    expect(auths[0]).not.toBeNull();

    // Reset twice in a row: one retry, then the round gives up (the next round tries again).
    cp.lease = () => 'connection-reset';
    await clock.advance(10_000);
    await settle();
    expect(cp.count('/v1/agent/lease')).toBe(4);
    expect(logs.at(-1)?.msg).toBe('control plane unreachable');
    // A refused connection (nothing listening) is not retried at once.
    cp.lease = () => 'network-error';
    await clock.advance(10_000);
    await settle();
    expect(cp.count('/v1/agent/lease')).toBe(5);
  });

  it('should renew every renewIntervalSeconds with its generation and node report', async () => {
    agent.start();
    await clock.advance(0);
    await clock.advance(30_000);
    expect(cp.count('/v1/agent/lease')).toBe(4); // t = 0, 10, 20, 30 s
    expect(cp.lastLease()).toMatchObject({
      hostId: HOST,
      generation: null,
      node: { running: false },
    });
    expect(agent.state()).toMatchObject({
      registered: true,
      generation: null,
      fenced: false,
      lastRenewalAt: 30_000,
    });
  });

  it('should fetch keys and start the node on assignment, then report it', async () => {
    cp.lease = () => ({ status: 200, body: assigned(3, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    expect(await running()).toBe(true);
    expect((await driver.report()).nodeId).toBe(id.nodeId);
    expect(agent.state().generation).toBe(3);
    expect(cp.calls.find((c) => c.path === '/v1/agent/keys')?.body).toEqual({
      hostId: HOST,
      generation: 3,
    });
    await clock.advance(10_000);
    expect(cp.lastLease()).toMatchObject({
      generation: 3,
      node: { running: true, nodeId: id.nodeId, bootstrapped: true },
    });
    expect(cp.count('/v1/agent/keys')).toBe(1);
  });

  it('should wait retryAfterMs on 425 and start once the keys are granted', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    let early = 2;
    cp.keys = (req) =>
      early-- > 0
        ? { status: 425, body: { retryAfterMs: 3_000, reason: 'old lease' } }
        : { status: 200, body: keysBody(id, req.generation) };
    agent.start();
    await clock.advance(0);
    expect(await running()).toBe(false);
    expect(agent.state().generation).toBe(1); // "about to run": the next renewal carries it
    await clock.advance(2_999);
    expect(cp.count('/v1/agent/keys')).toBe(1);
    await clock.advance(1);
    expect(cp.count('/v1/agent/keys')).toBe(2);
    await clock.advance(3_000);
    expect(await running()).toBe(true);
  });

  it.each([409, 410])(
    'should not start when keys answer %i, nor retry that generation',
    async (status) => {
      cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
      cp.keys = () => ({ status, body: { fenced: true, reason: 'moved' } });
      agent.start();
      await clock.advance(30_000);
      expect(await running()).toBe(false);
      expect(cp.count('/v1/agent/keys')).toBe(1);
      expect(agent.state().generation).toBeNull();
    },
  );

  it('should refuse keys whose certificate is not the assigned NodeID', async () => {
    const other = await generateIdentity();
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(other, req.generation) });
    agent.start();
    await clock.advance(0);
    expect(await running()).toBe(false);
  });

  it('should stop immediately on 409 fenced and stay stopped while renewing with generation null', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    expect(await running()).toBe(true);

    cp.lease = () => ({ status: 409, body: { fenced: true, reason: 'generation moved' } });
    await clock.advance(10_000);
    expect(await running()).toBe(false);
    expect(agent.state()).toMatchObject({ fenced: true, generation: null });
    await clock.advance(10_000);
    expect(cp.lastLease()).toMatchObject({ generation: null, node: { running: false } });

    // Later the control plane hands it a new generation: it starts again.
    cp.lease = () => ({ status: 200, body: assigned(5, id.nodeId) });
    await clock.advance(10_000);
    expect(await running()).toBe(true);
    expect(agent.state()).toMatchObject({ fenced: false, generation: 5 });
  });

  it('should acknowledge a fence once its node has exited, until the control plane records it', async () => {
    cp.lease = () => ({ status: 200, body: assigned(3, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    expect(await running()).toBe(true);

    const runningWhenAcked: boolean[] = [];
    cp.stopped = () => {
      void running().then((r) => runningWhenAcked.push(r));
      return { status: 404, body: {} }; // an older control plane: no such route
    };
    cp.lease = () => ({ status: 409, body: { fenced: true, reason: 'planned move' } });
    await clock.advance(10_000);
    const acks = () => cp.calls.filter((c) => c.path === '/v1/agent/stopped');
    expect(acks().length).toBeGreaterThanOrEqual(1);
    expect(acks()[0].body).toEqual({ hostId: HOST, generation: 3 });
    expect(acks()[0].auth).not.toBeNull();
    const before = acks().length;
    await clock.advance(10_000); // refused again: the ack is re-sent
    expect(acks().length).toBeGreaterThan(before);
    cp.stopped = () => ({ status: 204, body: null });
    await clock.advance(10_000);
    const recorded = acks().length;
    await clock.advance(30_000); // recorded: not sent again
    expect(acks()).toHaveLength(recorded);
    expect(runningWhenAcked.every((r) => r === false)).toBe(true);

    // A late assignment of a generation it gave up does not start it (answers can overtake).
    cp.lease = () => ({ status: 200, body: assigned(3, id.nodeId) });
    await clock.advance(10_000);
    expect(await running()).toBe(false);
    expect(cp.count('/v1/agent/keys')).toBe(1);
  });

  it('should not acknowledge a self-fence: it may be re-armed', async () => {
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    cp.lease = () => 'network-error';
    await clock.advance(60_000);
    expect(await running()).toBe(false);
    expect(cp.count('/v1/agent/stopped')).toBe(0);
  });

  it('should stop the node when it becomes standby', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    cp.lease = () => ({ status: 200, body: standby() });
    await clock.advance(10_000);
    expect(await running()).toBe(false);
    expect(agent.state().generation).toBeNull();
  });

  it('should stop the old identity before fetching the keys of a new generation', async () => {
    const order: string[] = [];
    const stop = driver.stop.bind(driver);
    driver.stop = async () => {
      order.push('stop');
      return stop();
    };
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => {
      order.push(`keys ${req.generation}`);
      return { status: 200, body: keysBody(id, req.generation) };
    };
    agent.start();
    await clock.advance(0);
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    await clock.advance(10_000);
    expect(order).toEqual(['keys 1', 'stop', 'keys 2']);
    expect(await running()).toBe(true);
  });

  /** Records every driver.stop: when (agent clock) and with what deadline. */
  const recordStops = () => {
    const stops: { at: number; timeoutMs: number | undefined }[] = [];
    const stop = driver.stop.bind(driver);
    driver.stop = async (timeoutMs?: number) => {
      stops.push({ at: clock.now(), timeoutMs });
      return stop(timeoutMs);
    };
    return stops;
  };
  const withOptions = (extra: Partial<AgentOptions>) =>
    new Agent({
      userData,
      instanceId: 'i-abc',
      driver,
      fetch: cp.fetch,
      now: clock.now,
      timers: clock.timers,
      log: (msg, fields) => logs.push({ msg, fields }),
      random: () => 0.5,
      ...extra,
    });

  it('should self-fence at TTL − stop budget after the last good request start (default budget 10 s)', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    const stops = recordStops();
    agent.start();
    await clock.advance(20_000); // renewals succeed (a quick one right after the node starts)
    const last = agent.state().lastRenewalAt!;
    expect(last).toBeGreaterThanOrEqual(10_000);

    let mode: 'error' | '500' = 'error';
    cp.lease = () => (mode === 'error' ? 'network-error' : { status: 500, body: {} });
    await clock.advance(20_000); // t = 40 s
    mode = '500';
    await clock.advance(last + 35_000 - 1 - 40_000); // not yet TTL (45 s) − budget (10 s)
    expect(await running()).toBe(true);
    expect(stops).toEqual([]);
    await clock.advance(1); // exactly 35 s after it
    expect(await running()).toBe(false);
    // SIGTERM now, SIGKILL when the lease ends on this clock: 10 s later, not the driver's default.
    expect(stops).toEqual([{ at: last + 35_000, timeoutMs: 10_000 }]);
    expect(agent.state().fenced).toBe(true);
    expect(logs.some((l) => /self-fence/.test(l.msg))).toBe(true);
  });

  it.each([
    { stopBudgetMs: 5_000, stopAt: 40_000 },
    { stopBudgetMs: 0, stopAt: 45_000 },
    // Does not fit TTL − renew interval (35 s): half of that instead, so one missed renewal never stops a node.
    { stopBudgetMs: 40_000, stopAt: 45_000 - 17_500 },
  ])(
    'should begin the stop at TTL − budget with a deadline ≤ budget (stopBudgetMs $stopBudgetMs)',
    async ({ stopBudgetMs, stopAt }) => {
      await agent.stop();
      agent = withOptions({ stopBudgetMs });
      cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
      cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
      agent.start();
      await clock.advance(0); // renewal at 0 starts the node, a quick one follows at 0.5 s
      const last = agent.state().lastRenewalAt!;
      cp.lease = () => 'network-error';
      const stops = recordStops();
      await clock.advance(last + stopAt - 1);
      expect(await running()).toBe(true);
      await clock.advance(1);
      expect(await running()).toBe(false);
      expect(stops).toHaveLength(1);
      expect(stops[0].at).toBe(last + stopAt);
      expect(stops[0].timeoutMs).toBe(last + 45_000 - stops[0].at);
      expect(stops[0].timeoutMs).toBeLessThanOrEqual(Math.min(stopBudgetMs, 17_500));
    },
  );

  it('should give every stop a deadline no later than the lease end, a 409 fence included', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(10_000);
    const last = agent.state().lastRenewalAt!;
    const stops = recordStops();
    cp.lease = () => ({ status: 409, body: { fenced: true, reason: 'generation moved' } });
    await clock.advance(10_000);
    expect(stops).toHaveLength(1);
    expect(stops[0].timeoutMs).toBe(last + 45_000 - stops[0].at);
  });

  it('should self-fence even when the renewal request hangs', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    let hang = false;
    const hanging = new Agent({
      userData,
      instanceId: 'i-hang',
      driver,
      // A fetch that never settles (and ignores its abort signal) once `hang` is set.
      fetch: ((url: string, init: RequestInit) =>
        hang ? new Promise<Response>(() => undefined) : cp.fetch(url, init)) as typeof fetch,
      now: clock.now,
      timers: clock.timers,
    });
    hanging.start();
    await clock.advance(0);
    expect(await running()).toBe(true);
    hang = true;
    await clock.advance(34_999); // the last good renewal started at 0 (a quick one follows, hanging)
    expect(await running()).toBe(true);
    await clock.advance(1);
    expect(await running()).toBe(false);
    await hanging.stop();
  });

  it('should survive network errors and garbage without crashing', async () => {
    let n = 0;
    cp.lease = () => (n++ % 2 ? 'network-error' : { status: 200, body: { nonsense: true } });
    agent.start();
    await clock.advance(100_000);
    expect(agent.state().registered).toBe(true);
    expect(cp.count('/v1/agent/lease')).toBeGreaterThanOrEqual(10);
  });

  it('should end every timer on stop, and stop the node', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    expect(clock.timerCount).toBeGreaterThan(0);
    await agent.stop();
    expect(clock.timerCount).toBe(0);
    expect(await running()).toBe(false);
    const before = cp.calls.length;
    await clock.advance(100_000);
    expect(cp.calls.length).toBe(before);
  });

  it('should never log key material', async () => {
    cp.lease = () => ({ status: 200, body: assigned(1, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    agent.start();
    await clock.advance(0);
    cp.lease = () => ({ status: 409, body: { fenced: true, reason: 'moved' } });
    await clock.advance(100_000);
    const text = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      id.stakerKey,
      id.signerKey.toString('base64'),
      id.signerKey.toString('hex'),
      'PRIVATE KEY',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain(userData.bootstrapToken);
  });
});

describe(`${Agent.name} on protocol 2 (host credentials)`, () => {
  let clock: FakeClock;
  let cp: FakeControlPlane;
  let driver: SimulatedNodeDriver;
  let id: GeneratedIdentity;
  const v2: UserData = { ...userData, snowline: 2 };

  beforeAll(async () => {
    id = await generateIdentity();
  });
  beforeEach(() => {
    clock = new FakeClock();
    cp = new FakeControlPlane();
    driver = new SimulatedNodeDriver({ bootstrapMs: 1_000, now: clock.now });
  });

  const make = (store = memoryHostKeyStore()) =>
    new Agent({
      userData: v2,
      instanceId: 'i-abc',
      driver,
      fetch: cp.fetch,
      now: clock.now,
      timers: clock.timers,
      random: () => 0.5,
      keyStore: store,
      instanceIdentity: (audience) => Promise.resolve({ document: '{}', pkcs7: `sig:${audience}` }),
    });

  it('should register its public keys with the token once, then sign every request with its key', async () => {
    const store = memoryHostKeyStore();
    const agent = make(store);
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => {
      const keys = store.keys!;
      const plain = Buffer.from(
        JSON.stringify({
          stakerCrt: id.stakerCrt,
          stakerKey: id.stakerKey,
          signerKey: id.signerKey.toString('base64'),
        }),
      );
      const sealed = sealToHost(
        hostPublicKeys(keys).encryptionKey,
        plain,
        keysAad(HOST, req.generation),
      );
      return { status: 200, body: { generation: req.generation, sealed } };
    };
    agent.start();
    await clock.advance(0);
    const [register, ...rest] = cp.calls;
    expect(register.auth).toBe(`Bearer ${v2.bootstrapToken}`);
    const pub = hostPublicKeys(store.keys!);
    expect(register.body).toMatchObject({ hostId: HOST, instanceId: 'i-abc', ...pub });
    expect((register.body.instanceIdentity as { pkcs7: string }).pkcs7).toBe(
      `sig:${instanceIdentityAudience(HOST, keyFingerprint(pub.signingKey))}`,
    );
    expect(store.keys!.boundHostId).toBe(HOST);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    const key = parsePublicKey(pub.signingKey, 'ed25519');
    for (const c of rest) {
      const parsed = parseSignatureHeader(c.auth ?? undefined)!;
      expect(parsed.hostId).toBe(HOST);
      expect(
        verifyRequestSignature(key, parsed, {
          method: 'POST',
          path: c.path,
          body: JSON.stringify(c.body),
        }),
      ).toBe(true);
    }
    // The sealed keys opened: the node runs under the assignment's identity.
    expect((await driver.report()).nodeId).toBe(id.nodeId);
    await agent.stop();
  });

  it('should re-register a restarted agent with its stored key, not the spent token', async () => {
    const store = memoryHostKeyStore({ ...generateHostKeys(), boundHostId: HOST });
    const agent = make(store);
    agent.start();
    await clock.advance(0);
    expect(cp.calls[0].path).toBe('/v1/agent/register');
    expect(cp.calls[0].auth).toMatch(/^Snowline-Host hostId=/);
    expect(cp.calls[0].body).toEqual({ hostId: HOST, instanceId: 'i-abc' });
    await agent.stop();
  });

  it('should not start a node from keys that do not open with its key', async () => {
    const agent = make();
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => ({
      status: 200,
      body: {
        generation: req.generation,
        sealed: sealToHost(
          hostPublicKeys(generateHostKeys()).encryptionKey,
          Buffer.from('{}'),
          keysAad(HOST, req.generation),
        ),
      },
    });
    agent.start();
    await clock.advance(3_000);
    expect((await driver.report()).running).toBe(false);
    await agent.stop();
  });
});

describe('Agent release install', () => {
  const RELEASE = {
    version: '1.15.3',
    network: 'fuji' as const,
    url: 'http://releases.test/avalanchego-1.15.3.tar.gz',
    sha256: 'a'.repeat(64),
  };
  let clock: FakeClock;
  let cp: FakeControlPlane;
  let driver: SimulatedNodeDriver;
  let id: GeneratedIdentity;
  let agents: Agent[];

  beforeAll(async () => {
    id = await generateIdentity();
  });
  beforeEach(() => {
    clock = new FakeClock();
    cp = new FakeControlPlane();
    driver = new SimulatedNodeDriver({ bootstrapMs: 1_000, now: clock.now });
    agents = [];
  });
  afterEach(async () => {
    for (const a of agents) await a.stop();
  });

  /** An installer whose outcome the test decides: resolve, a checksum refusal, or a network error. */
  const installer = (outcomes: ('ok' | 'checksum' | 'network' | 'hang')[]) => {
    const calls: string[] = [];
    let release: (() => void) | null = null;
    return {
      calls,
      finish: () => release?.(),
      install: (r: typeof RELEASE) => {
        calls.push(r.version);
        const o = outcomes.shift() ?? 'ok';
        if (o === 'checksum')
          return Promise.reject(new ReleaseChecksumError(`avalanchego ${r.version}: bad hash`));
        if (o === 'network') return Promise.reject(new TypeError('fetch failed'));
        if (o === 'hang') return new Promise<void>((r2) => (release = r2));
        return Promise.resolve();
      },
    };
  };
  const make = (inst: ReturnType<typeof installer> | undefined, ud: UserData = userData) => {
    const agent = new Agent({
      userData: { ...ud, avalanchego: RELEASE },
      instanceId: 'i-abc',
      driver,
      fetch: cp.fetch,
      now: clock.now,
      timers: clock.timers,
      random: () => 0.5,
      installer: inst,
      standbyKeys: () => Promise.resolve(id),
    });
    agents.push(agent);
    return agent;
  };

  it('should report the installed version in its renewals and start a standby node once installed', async () => {
    const inst = installer(['hang']);
    make(inst).start();
    await clock.advance(10_000);
    expect(inst.calls).toEqual(['1.15.3']);
    expect(cp.lastLease()).toMatchObject({ node: { running: false, version: null } });
    inst.finish();
    await clock.advance(10_000);
    expect(cp.lastLease()).toMatchObject({ node: { version: '1.15.3' } });
    expect((await driver.report()).running).toBe(true);
  });

  it('should fetch no keys until the release is installed', async () => {
    const inst = installer(['hang']);
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    make(inst).start();
    await clock.advance(20_000);
    expect(cp.count('/v1/agent/keys')).toBe(0);
    inst.finish();
    await clock.advance(10_000);
    expect(cp.count('/v1/agent/keys')).toBe(1);
    expect((await driver.report()).nodeId).toBe(id.nodeId);
  });

  it('should never run a release whose checksum does not match, and say why in every renewal', async () => {
    const inst = installer(['checksum']);
    cp.lease = () => ({ status: 200, body: assigned(2, id.nodeId) });
    cp.keys = (req) => ({ status: 200, body: keysBody(id, req.generation) });
    make(inst).start();
    await clock.advance(60_000);
    expect(inst.calls).toEqual(['1.15.3']); // never retried
    expect(cp.count('/v1/agent/keys')).toBe(0);
    expect((await driver.report()).running).toBe(false);
    expect(cp.lastLease()).toMatchObject({
      node: { running: false, version: null, error: 'avalanchego 1.15.3: bad hash' },
    });
  });

  it('should retry a failed download with back-off, then run it', async () => {
    const inst = installer(['network', 'network', 'ok']);
    make(inst).start();
    await clock.advance(40_000);
    expect(inst.calls.length).toBe(3);
    expect(cp.lastLease()).toMatchObject({ node: { running: true, version: '1.15.3' } });
  });

  it('should name the installed version when it registers, and nothing when it has none', async () => {
    let refusals = 1;
    cp.register = () =>
      refusals-- > 0
        ? { status: 503, body: {} }
        : { status: 200, body: { hostId: HOST, leaseTtlSeconds: 45, renewIntervalSeconds: 10 } };
    make(installer(['ok'])).start();
    await clock.advance(5_000);
    const registers = cp.calls.filter((c) => c.path === '/v1/agent/register');
    expect(registers.map((c) => c.body.version)).toEqual([undefined, '1.15.3']);

    const plain = new Agent({
      userData,
      instanceId: 'i-old',
      driver: new SimulatedNodeDriver({ bootstrapMs: 1_000, now: clock.now }),
      fetch: cp.fetch,
      now: clock.now,
      timers: clock.timers,
    });
    agents.push(plain);
    const before = cp.calls.length;
    plain.start();
    await clock.advance(0);
    expect(cp.calls[before]!.body).toEqual({ hostId: HOST, instanceId: 'i-old' });
    expect(cp.calls.filter((c) => c.path === '/v1/agent/lease').at(-1)!.body).toMatchObject({
      node: { version: null },
    });
  });
});

describe('errText', () => {
  it('should name what a failed fetch failed on, not only "fetch failed"', async () => {
    const { errText } = await import('./agent');
    const { createServer } = await import('node:net');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as { port: number };
    await new Promise((r) => srv.close(r)); // nothing listens there now
    const err = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(errText(err)).toMatch(
      new RegExp(`^TypeError: fetch failed \\(ECONNREFUSED: .*127\\.0\\.0\\.1:${port}`),
    );
    expect(errText(new Error('plain'))).toBe('Error: plain');
    expect(errText('a string')).toBe('Error: a string');
  });
});
