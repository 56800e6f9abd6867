import { Throttled } from './errors';
import { RateLimiter } from './rate-limiter';

function clock() {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    slept,
  };
}

describe(RateLimiter.name, () => {
  it('should let a burst through, then pace calls per (region, action)', async () => {
    const c = clock();
    const rl = new RateLimiter({ RunInstances: { perSecond: 2, burst: 2 } }, c);
    await rl.acquire('cn-hongkong', 'RunInstances');
    await rl.acquire('cn-hongkong', 'RunInstances');
    expect(c.slept).toEqual([]);
    await rl.acquire('cn-hongkong', 'RunInstances');
    expect(c.slept).toEqual([500]);
    await rl.acquire('cn-beijing', 'RunInstances');
    await rl.acquire('cn-hongkong', 'DescribeInstances'); // no limit named, no '*': unlimited
    expect(c.slept).toEqual([500]);
  });

  it('should honour a retry-after and fail Throttled past the longest wait', async () => {
    const c = clock();
    const rl = new RateLimiter({ '*': { perSecond: 100, burst: 100 } }, { ...c, maxWaitMs: 1000 });
    rl.backOff('r', 'DescribeInstances', 800);
    await rl.acquire('r', 'DescribeInstances');
    expect(c.slept).toEqual([800]);
    rl.backOff('r', 'DescribeInstances', 5000);
    await expect(rl.acquire('r', 'DescribeInstances')).rejects.toBeInstanceOf(Throttled);
  });
});
