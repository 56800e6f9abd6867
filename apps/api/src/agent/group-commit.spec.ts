import { GroupCommit } from './group-commit';

/** A `run` whose batches the test releases by hand. */
function gated() {
  const batches: { items: number[]; release: () => void; fail: (e: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push({ items, release: () => resolve(items.map((i) => i * 10)), fail: reject });
    });
  return { batches, run };
}
const turn = () => new Promise((r) => setImmediate(r));

describe(GroupCommit.name, () => {
  it('should write what arrives in one turn together, each caller getting its own result', async () => {
    const g = gated();
    const gc = new GroupCommit(g.run, { maxBatch: 100, maxInFlight: 1 });
    const answers = [1, 2, 3].map((i) => gc.submit(i));
    await turn();
    expect(g.batches.map((b) => b.items)).toEqual([[1, 2, 3]]);
    g.batches[0]!.release();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
  });

  it('should gather calls while a batch is in flight and send them when it returns', async () => {
    const g = gated();
    const gc = new GroupCommit(g.run, { maxBatch: 2, maxInFlight: 1 });
    const first = gc.submit(1);
    await turn();
    const later = [2, 3, 4].map((i) => gc.submit(i));
    await turn();
    expect(g.batches).toHaveLength(1); // nothing else goes out while one is in flight
    let settled = false;
    void later[0]!.then(() => (settled = true));
    g.batches[0]!.release();
    expect(await first).toBe(10);
    await turn();
    expect(settled).toBe(false); // answered only after its own batch is written
    expect(g.batches.map((b) => b.items)).toEqual([[1], [2, 3]]); // maxBatch
    g.batches[1]!.release();
    await turn();
    expect(g.batches[2]!.items).toEqual([4]);
    g.batches[2]!.release();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect({ batches: gc.batches, items: gc.items }).toEqual({ batches: 3, items: 4 });
  });

  it('should fail every call of a failed batch, and go on with the next', async () => {
    const g = gated();
    const gc = new GroupCommit(g.run, { maxBatch: 10, maxInFlight: 2 });
    const a = [1, 2].map((i) => gc.submit(i));
    await turn();
    g.batches[0]!.fail(new Error('connection lost'));
    await expect(a[0]).rejects.toThrow('connection lost');
    await expect(a[1]).rejects.toThrow('connection lost');
    const b = gc.submit(3);
    await turn();
    g.batches[1]!.release();
    expect(await b).toBe(30);
  });
});
