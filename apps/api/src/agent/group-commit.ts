/**
 * Group commit (issue 20 point 2): calls that arrive while earlier ones are being written are
 * gathered and written together by one `run` — one statement, one commit, one round trip for many
 * lease renewals. Nothing waits for a timer: a call goes out at once when fewer than `maxInFlight`
 * batches are being written (so a quiet API adds no latency), otherwise it joins the next batch,
 * which leaves the moment one in flight returns. Each caller gets its own result only after `run`
 * resolved, so an answer built on it is as durable as the statement. A failed `run` rejects every
 * call of its batch; `run` must give one result per item, in order.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Batches written and items in them, for the metrics (mean batch = items / batches). */
  batches = 0;
  items = 0;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly opts: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // Gather what this turn of the event loop brings (an HTTP read often parses several requests).
      if (!this.scheduled && this.inFlight < this.opts.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.queue.length && this.inFlight < this.opts.maxInFlight) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.batches++;
      this.items += batch.length;
      this.run(batch.map((b) => b.item))
        .then(
          (results) => {
            batch.forEach((b, i) => b.resolve(results[i]!));
          },
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }
}
