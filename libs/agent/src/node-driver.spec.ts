import { generateIdentity } from '@snowline/avalanche';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNodeDriverContract } from './node-driver.contract';
import { ProcessNodeDriver } from './process-node-driver';

const FAKE_AVALANCHEGO = join(__dirname, '__fixtures__', 'avalanchego');
/** Ignores SIGTERM, starts a grandchild, writes both pids to the file named by its first arg. */
const STUBBORN_NODE = join(__dirname, '__fixtures__', 'stubborn-node');
/** Starts a ProcessNodeDriver with STUBBORN_NODE and idles, to be SIGKILLed. */
const AGENT_HOST = join(__dirname, '__fixtures__', 'agent-host');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A zombie counts as dead: in a container nobody may reap an orphan. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(fn: () => Promise<T | null> | T | null, ms: number): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null || Date.now() > deadline) return v;
    await sleep(25);
  }
}

async function readPids(pidfile: string, ms = 5_000): Promise<number[]> {
  const pids = await waitFor(
    async () =>
      existsSync(pidfile) ? (await readFile(pidfile, 'utf8')).trim().split(' ').map(Number) : null,
    ms,
  );
  if (!pids) throw new Error('the stubborn node never wrote its pids');
  return pids;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// The simulated driver runs its contract in simulated-node-driver.spec.ts (same suite, fake clock).
describeNodeDriverContract('ProcessNodeDriver', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'snowline-agent-'));
  const driver = new ProcessNodeDriver({
    binary: FAKE_AVALANCHEGO,
    dataDir,
    httpPort: await freePort(),
    args: ['--fake-bootstrap-ms=300'],
    stopTimeoutMs: 2_000,
  });
  return {
    driver,
    bootstrap: () => new Promise((r) => setTimeout(r, 350)),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

describe(ProcessNodeDriver.name, () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'snowline-agent-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('should write the key files 0600 in a 0700 directory and delete them on stop', async () => {
    const driver = new ProcessNodeDriver({
      binary: FAKE_AVALANCHEGO,
      dataDir,
      httpPort: await freePort(),
    });
    const id = await generateIdentity();
    await driver.start(id);
    const dir = await stat(join(dataDir, 'staking'));
    expect(dir.mode & 0o777).toBe(0o700);
    for (const f of Object.values(driver.files)) expect((await stat(f)).mode & 0o777).toBe(0o600);
    await driver.stop();
    expect(await readdir(join(dataDir, 'staking'))).toEqual([]);
  });

  it('should start an L1 host’s node with --track-subnets and report what it tracks', async () => {
    const L1 = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
    const argsFile = join(dataDir, 'args.json');
    const driver = new ProcessNodeDriver({
      binary: FAKE_AVALANCHEGO,
      dataDir,
      httpPort: await freePort(),
      args: [`--fake-args-file=${argsFile}`],
      trackSubnets: [L1],
    });
    expect((await driver.report()).trackedSubnets).toEqual([L1]);
    await driver.start(await generateIdentity());
    const flags = await waitFor(
      async () =>
        existsSync(argsFile) ? (JSON.parse(await readFile(argsFile, 'utf8')) as string[]) : null,
      5_000,
    );
    await driver.stop();
    expect(flags).toContain(`--track-subnets=${L1}`);
  });

  it('should SIGKILL a node that ignores SIGTERM after the stop timeout', async () => {
    const driver = new ProcessNodeDriver({
      binary: FAKE_AVALANCHEGO,
      dataDir,
      httpPort: await freePort(),
      args: ['--fake-ignore-sigterm'],
      stopTimeoutMs: 300,
    });
    await driver.start(await generateIdentity());
    // Once it answers HTTP, its SIGTERM handler is installed.
    for (let i = 0; i < 200 && (await driver.report()).nodeId === null; i++)
      await new Promise((r) => setTimeout(r, 25));
    const t0 = Date.now();
    await driver.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect((await driver.report()).running).toBe(false);
  });

  it('should report unknown (null), not false, while the node does not answer', async () => {
    const driver = new ProcessNodeDriver({
      binary: process.execPath,
      dataDir,
      httpPort: await freePort(),
      // A process that runs but serves nothing: `node -e` ignores the avalanchego flags after the script.
      args: ['-e', 'setTimeout(() => {}, 60000)', '--'],
      requestTimeoutMs: 200,
      stopTimeoutMs: 1_000,
    });
    await driver.start(await generateIdentity());
    const r = await driver.report();
    await driver.stop();
    expect(r).toMatchObject({ running: true, nodeId: null, healthy: null, bootstrapped: null });
    expect(r.error).toMatch(/unreachable/);
  });

  it('should report a node that exited by itself as not running, with the reason', async () => {
    const driver = new ProcessNodeDriver({
      binary: process.execPath,
      dataDir,
      httpPort: await freePort(),
      args: ['-e', 'process.exit(3)', '--'],
    });
    await driver.start(await generateIdentity());
    for (let i = 0; i < 100 && (await driver.report()).running; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await driver.report()).toMatchObject({
      running: false,
      error: expect.stringMatching(/code 3/),
    });
    await driver.stop();
  });
});

describe(`${ProcessNodeDriver.name} process group`, () => {
  let dataDir: string;
  let pids: number[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'snowline-agent-'));
    pids = [];
  });
  afterEach(async () => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['with setpriv', undefined],
    ['without setpriv', null],
  ] as const)('should SIGKILL the whole group at stop(timeoutMs), %s', async (_name, setpriv) => {
    const pidfile = join(dataDir, 'pids');
    const driver = new ProcessNodeDriver({
      binary: STUBBORN_NODE,
      dataDir,
      httpPort: await freePort(),
      args: [pidfile],
      stopTimeoutMs: 10_000,
      setpriv,
    });
    await driver.start(await generateIdentity());
    pids = await readPids(pidfile);
    expect(pids[0]).toBe(driver.pid);
    expect(pids.every(alive)).toBe(true);
    const t0 = Date.now();
    await driver.stop(300); // shorter than the driver's own 10 s
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);
    // The grandchild ignored SIGTERM too; only the group's SIGKILL ends it.
    expect(await waitFor(() => (pids.some(alive) ? null : true), 500)).toBe(true);
  });

  it.each([
    ['setpriv + watchdog', ''],
    ['watchdog only', 'no-setpriv'],
  ] as const)(
    'should leave no node running when the agent is SIGKILLed (%s)',
    async (_name, mode) => {
      if (!mode && !existsSync('/usr/bin/setpriv')) return;
      const pidfile = join(dataDir, 'pids');
      const agent = spawn(process.execPath, [AGENT_HOST, pidfile, dataDir, mode], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const agentExited = new Promise((r) => agent.once('exit', r));
      try {
        pids = await readPids(pidfile, 15_000);
        expect(pids.every(alive)).toBe(true);
      } finally {
        agent.kill('SIGKILL');
        await agentExited;
      }
      const t0 = Date.now();
      const dead = await waitFor(() => (pids.some(alive) ? null : Date.now() - t0), 2_000);
      expect(dead).not.toBeNull();
    },
    20_000,
  );
});
