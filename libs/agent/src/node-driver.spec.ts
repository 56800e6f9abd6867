import { generateIdentity } from '@snowline/avalanche';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNodeDriverContract } from './node-driver.contract';
import { ProcessNodeDriver } from './process-node-driver';

const FAKE_AVALANCHEGO = join(__dirname, '__fixtures__', 'avalanchego');

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
