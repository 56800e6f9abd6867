import type { DataSource } from 'typeorm';
import {
  createDataSource,
  LeaderLeaseRepository,
  Repositories,
  ValidatorLockRepository,
} from '@snowline/persistence';
import { LeaderLoop } from '../../apps/worker/src/lifecycle/leader-loop';
import { migratedDatabase } from '../support/db';

jest.setTimeout(60_000);

const TTL_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loop that only runs when ticked and counts its rounds. */
class CountingLoop extends LeaderLoop<number> {
  rounds = 0;
  constructor(ds: DataSource) {
    super(new LeaderLeaseRepository(ds), 'test-loop', TTL_MS);
  }
  protected intervalMs(): number {
    return 200;
  }
  protected override autoStart(): boolean {
    return false;
  }
  protected round(): Promise<number> {
    return Promise.resolve(++this.rounds);
  }
  currentFence() {
    return this.fence();
  }
}

/**
 * Holds back every lease renewal of `loop` until `resume()`: what SIGSTOP does to a worker (its
 * session stays open, it sends nothing), then what SIGCONT does (its late renewal goes out).
 */
function freeze(loop: CountingLoop) {
  const leases = (loop as unknown as { leader: { leases: LeaderLeaseRepository } }).leader.leases;
  let resume!: () => void;
  const thawed = new Promise<void>((r) => (resume = r));
  const renew = leases.renew.bind(leases);
  const spy = jest.spyOn(leases, 'renew').mockImplementation(async (...args) => {
    await thawed;
    return renew(...args);
  });
  return {
    resume: () => {
      spy.mockRestore();
      resume();
    },
  };
}

describe(LeaderLoop.name, () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let dsB: DataSource;
  let a: CountingLoop;
  let b: CountingLoop;
  let leases: LeaderLeaseRepository;

  beforeEach(async () => {
    env = await migratedDatabase('leader_lease');
    leases = new LeaderLeaseRepository(env.ds);
    dsB = createDataSource(env.db.url); // the second worker: a pool of its own
    await dsB.initialize();
    a = new CountingLoop(env.ds);
    b = new CountingLoop(dsB);
  });
  afterEach(async () => {
    await a.onApplicationShutdown();
    await b.onApplicationShutdown();
    await dsB.destroy();
    await env.ds.destroy();
    await env.db.drop();
  });

  it('should let one of two loops lead and the other follow', async () => {
    expect(await a.tick()).toBe(1);
    expect(await b.tick()).toBeNull();
    expect(await a.tick()).toBe(2);
    expect(a.leading()).toBe(true);
    expect(b.leading()).toBe(false);
    const [row] = await leases.list();
    expect(row).toMatchObject({ name: 'test-loop', holder: a.holder, generation: 1 });
  });

  it('should keep leading across rounds spaced wider than the lease (renewals run on their own)', async () => {
    expect(await a.tick()).toBe(1);
    await sleep(TTL_MS * 2);
    expect(await b.tick()).toBeNull();
    expect(await a.tick()).toBe(2);
  });

  it('should hand leadership over at the next round when the leader session dies, without waiting for expiry', async () => {
    await a.tick();
    const [row] = await leases.list();
    await dsB.query('SELECT pg_terminate_backend($1)', [row!.holderPid]); // as kill -9 does
    const t0 = Date.now();
    await sleep(100);
    expect(await b.tick()).toBe(1);
    expect(Date.now() - t0).toBeLessThan(TTL_MS);
    expect((await leases.list())[0]).toMatchObject({ holder: b.holder, generation: 2 });
    expect(await a.tick()).toBeNull(); // its renewal fails, the lease is taken
  });

  it('should move leadership off a frozen leader within the lease, and keep it off when it resumes', async () => {
    expect(await a.tick()).toBe(1);
    const staleFence = a.currentFence();
    const frozen = freeze(a);
    const t0 = Date.now();
    let took: number | null = null;
    while (Date.now() - t0 < TTL_MS * 3 && took === null) {
      took = await b.tick();
      if (took === null) await sleep(100);
    }
    expect(took).toBe(1);
    const movedAfter = Date.now() - t0;
    expect(movedAfter).toBeLessThanOrEqual(TTL_MS + 500);
    expect(movedAfter).toBeGreaterThanOrEqual(TTL_MS * 0.5); // it waited for the expiry
    // The frozen one knows by its own clock that it no longer leads, before any round trip.
    expect(a.leading()).toBe(false);
    expect(a.currentFence().generation).toBe(-1);
    // A write fenced by its old lease is refused inside the transaction.
    await new Repositories(env.ds).transaction(async (tx) => {
      expect(await leases.holds(tx, staleFence)).toBe(false);
      expect(await leases.holds(tx, b.currentFence())).toBe(true);
    });
    frozen.resume();
    expect(await a.tick()).toBeNull();
    expect(a.rounds).toBe(1);
    expect(await b.tick()).toBe(2);
    expect((await leases.list())[0]).toMatchObject({ holder: b.holder, generation: 2 });
  });

  it('should free the lease at once on a clean shutdown', async () => {
    await a.tick();
    await a.onApplicationShutdown();
    expect(await b.tick()).toBe(1);
  });
});

describe(ValidatorLockRepository.name, () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let locks: ValidatorLockRepository;
  beforeAll(async () => {
    env = await migratedDatabase('validator_lock');
    locks = new ValidatorLockRepository(env.ds);
  });
  afterAll(async () => {
    await env.ds.destroy();
    await env.db.drop();
  });
  const id = '00000000-0000-4000-8000-000000000001';

  it('should keep the lock for a job longer than its bound while the worker heartbeats', async () => {
    let release!: () => void;
    const held = locks.withLock(
      id,
      () => new Promise<string>((r) => (release = () => r('done'))),
      1000,
    );
    await sleep(2500);
    expect(await locks.withLock(id, () => Promise.resolve('second'), 1000)).toBeUndefined();
    release();
    expect(await held).toBe('done');
    expect(await locks.withLock(id, () => Promise.resolve('after'), 1000)).toBe('after');
  });

  it('should free the lock of a frozen worker (no heartbeat) after its bound', async () => {
    // A frozen worker's timers do not fire: no heartbeat reaches its lock's session.
    const setIntervalSpy = jest
      .spyOn(global, 'setInterval')
      .mockImplementation((() => ({ unref: () => undefined })) as unknown as typeof setInterval);
    let release!: () => void;
    const stuck = locks.withLock(id, () => new Promise<void>((r) => (release = r)), 1000);
    await sleep(200);
    setIntervalSpy.mockRestore();
    expect(await locks.withLock(id, () => Promise.resolve('blocked'), 1000)).toBeUndefined();
    await sleep(1500);
    expect(await locks.withLock(id, () => Promise.resolve('next copy'), 1000)).toBe('next copy');
    release();
    await stuck; // the thawed job ends without an error: its lock was already gone
  });
});
