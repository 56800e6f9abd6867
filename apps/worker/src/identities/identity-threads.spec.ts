import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityThreads } from './identity-threads';

describe(IdentityThreads.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'identity-threads-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should fail only the job of a thread that dies, then generate on the calling thread', async () => {
    // A thread that dies on its first job.
    const file = join(dir, 'dies.js');
    writeFileSync(
      file,
      `require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); });`,
    );
    const threads = new IdentityThreads(1, file);
    expect(threads.threaded).toBe(true);
    await expect(threads.generate()).rejects.toThrow('boom');
    // Nothing is left waiting on the dead thread: the next identity is made here instead.
    expect(threads.threaded).toBe(false);
    const g = await threads.generate();
    expect(g.nodeId).toMatch(/^NodeID-/);
    await threads.close();
  }, 20_000);

  it('should fail what waits when the last thread dies, and reject what is pending on close', async () => {
    const file = join(dir, 'exits.js');
    writeFileSync(
      file,
      `require('node:worker_threads').parentPort.on('message', () => process.exit(3));`,
    );
    const threads = new IdentityThreads(1, file);
    const first = threads.generate();
    const queued = threads.generate(); // waits for the only thread
    await expect(first).rejects.toThrow('identity thread exited (3)');
    await expect(queued).rejects.toThrow('identity thread exited (3)');
    await threads.close();

    // A thread that never answers: close() rejects its job instead of leaving it hanging.
    const silent = join(dir, 'silent.js');
    writeFileSync(silent, `require('node:worker_threads').parentPort.on('message', () => {});`);
    const t2 = new IdentityThreads(1, silent);
    const hanging = t2.generate();
    await t2.close();
    await expect(hanging).rejects.toThrow('identity threads closed');
  }, 20_000);
});
