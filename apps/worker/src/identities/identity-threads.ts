import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';

type Pending = { resolve: (g: GeneratedIdentity) => void; reject: (e: Error) => void };

/**
 * Runs `generateIdentity` (~40–50 ms of CPU: P-256 certificate, BLS key, proof of possession) on
 * worker threads at the lowest priority, one identity per thread at a time. Falls back to the
 * calling thread when the compiled worker is absent (ts-jest runs the sources).
 */
export class IdentityThreads {
  private readonly workers: { w: Worker; busy: boolean }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: { id: number }[] = [];
  private seq = 0;

  constructor(readonly size = defaultThreads()) {
    const file = join(__dirname, 'identity.worker.js');
    if (!existsSync(file)) return;
    for (let i = 0; i < size; i++) {
      const w = new Worker(file);
      const slot = { w, busy: false };
      w.on('message', (m: { id: number; identity?: GeneratedIdentity; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        slot.busy = false;
        if (p) {
          if (m.identity)
            p.resolve({ ...m.identity, signerKey: Buffer.from(m.identity.signerKey) });
          else p.reject(new Error(m.error ?? 'identity generation failed'));
        }
        this.pump();
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      w.unref();
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
    this.waiting.push({ id });
    this.pump();
    return p;
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (slot.busy) continue;
      const job = this.waiting.shift();
      if (!job) return;
      slot.busy = true;
      slot.w.postMessage(job);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((s) => s.w.terminate()));
    for (const p of this.pending.values()) p.reject(new Error('identity threads closed'));
    this.pending.clear();
  }
}

/** Leave one core to the event loop (2 cores → 1 thread); at most 4. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
