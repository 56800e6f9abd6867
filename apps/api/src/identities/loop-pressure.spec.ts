import { loopUtilization, waitForQuietLoop } from './loop-pressure';

describe(waitForQuietLoop.name, () => {
  const run = (readings: number[], over: { maxMs?: number; stopAfter?: number } = {}) => {
    const slept: number[] = [];
    let i = 0;
    const waited = waitForQuietLoop(() => readings[Math.min(i++, readings.length - 1)]!, {
      busy: 0.5,
      stepMs: 100,
      maxMs: over.maxMs ?? 1000,
      sleep: async (ms) => {
        slept.push(ms);
      },
      stopped: () => over.stopAfter !== undefined && slept.length >= over.stopAfter,
    });
    return { waited, slept, reads: () => i };
  };

  it.each([
    ['a quiet loop: no wait', [0.1], 0],
    ['busy twice, then quiet', [0.9, 0.7, 0.2], 200],
    ['exactly at the threshold counts as busy', [0.5, 0.49], 100],
  ])('should wait while busy: %s', async (_, readings, expected) => {
    const r = run(readings);
    expect(await r.waited).toBe(expected);
    expect(r.slept).toEqual(Array(expected / 100).fill(100));
  });

  it('should stop waiting after maxMs even if the loop stays busy', async () => {
    const r = run([1], { maxMs: 300 });
    expect(await r.waited).toBe(300);
    expect(r.slept).toEqual([100, 100, 100]);
  });

  it('should stop waiting at once on shutdown', async () => {
    const r = run([1], { stopAfter: 1 });
    expect(await r.waited).toBe(100);
  });
});

describe(loopUtilization.name, () => {
  it('should read near 1 after blocking the loop and near 0 after idling', async () => {
    const read = loopUtilization();
    read();
    const until = Date.now() + 60;
    while (Date.now() < until); // busy: the loop cannot turn
    expect(read()).toBeGreaterThan(0.8);
    // Idle time only counts while the loop waits in poll: a process starved of CPU (a loaded CI
    // machine) can miss one 60 ms window, so idle in 100 ms steps until a reading comes (≤ 2 s).
    let idle = 1;
    for (let i = 0; i < 20 && idle >= 0.5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      idle = read();
    }
    expect(idle).toBeLessThan(0.5);
  });
});
