import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';

type Pending = { resolve: (g: GeneratedIdentity) => void; reject: (e: Error) => void };
type Slot = { w: Worker; job: number | null };

/**
 * Runs `generateIdentity` (~40–50 ms of CPU: P-256 certificate, BLS key, proof of possession) on
 * worker threads at the lowest priority, one identity per thread at a time. Falls back to the
 * calling thread when the compiled worker is absent (ts-jest runs the sources) or every thread has
 * died: a dead thread fails only its own job and is dropped, so nothing waits on it forever.
 */
export class IdentityThreads {
  private readonly workers: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: number[] = [];
  private seq = 0;
  private closing = false;

  constructor(
    readonly size = defaultThreads(),
    file = join(__dirname, 'identity.worker.js'),
  ) {
    if (!existsSync(file)) return;
    for (let i = 0; i < size; i++) {
      const slot: Slot = { w: new Worker(file), job: null };
      slot.w.on('message', (m: { id: number; identity?: GeneratedIdentity; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        slot.job = null;
        if (p) {
          if (m.identity)
            p.resolve({ ...m.identity, signerKey: Buffer.from(m.identity.signerKey) });
          else p.reject(new Error(m.error ?? 'identity generation failed'));
        }
        this.pump();
      });
      slot.w.on('error', (err) => this.drop(slot, err));
      slot.w.on('exit', (code) => this.drop(slot, new Error(`identity thread exited (${code})`)));
      slot.w.unref();
      this.workers.push(slot);
    }
  }

  get threaded(): boolean {
    return this.workers.length > 0;
  }

  generate(): Promise<GeneratedIdentity> {
    if (!this.threaded) return generateIdentity();
    const id = ++this.seq;
    const p = new Promise<GeneratedIdentity>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    this.waiting.push(id);
    this.pump();
    return p;
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (slot.job !== null) continue;
      const id = this.waiting.shift();
      if (id === undefined) return;
      slot.job = id;
      slot.w.postMessage({ id });
    }
  }

  /** A thread died: fail its job, forget it; with none left, fail what waits (callers retry). */
  private drop(slot: Slot, err: Error): void {
    const i = this.workers.indexOf(slot);
    if (i < 0) return;
    this.workers.splice(i, 1);
    const fail = (id: number | null | undefined) => {
      if (id === null || id === undefined) return;
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
    };
    fail(slot.job);
    if (!this.workers.length) for (const id of this.waiting.splice(0)) fail(id);
    else if (!this.closing) this.pump();
  }

  async close(): Promise<void> {
    this.closing = true;
    const all = this.workers.splice(0);
    await Promise.all(all.map((s) => s.w.terminate()));
    for (const p of this.pending.values()) p.reject(new Error('identity threads closed'));
    this.pending.clear();
    this.waiting.length = 0;
  }
}

/** Leave one core to the event loop (2 cores → 1 thread); at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
