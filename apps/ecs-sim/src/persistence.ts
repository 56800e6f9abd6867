import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { SimSnapshot, SimState } from './state';

/** The simulator's region on disk, in SNOWLINE_DATA_DIR: a restart finds the instances it left. */
export const SIM_STATE_FILE = 'ecs-sim-state.json';

const statusSchema = z.enum(['Pending', 'Starting', 'Running', 'Stopping', 'Stopped']);

const savedInstanceSchema = z.object({
  seq: z.number().int(),
  instanceId: z.string().min(1),
  instanceName: z.string(),
  regionId: z.string(),
  zoneId: z.string(),
  instanceType: z.string(),
  imageId: z.string(),
  vSwitchId: z.string(),
  securityGroupId: z.string(),
  privateIp: z.string(),
  status: statusSchema,
  createdAt: z.number(),
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  stoppedFrom: statusSchema.optional(),
  tags: z.array(z.tuple([z.string(), z.string()])),
  userData: z.string(),
  disk: z.unknown(),
  events: z.array(
    z.object({
      eventId: z.string(),
      instanceId: z.string(),
      type: z.string(),
      cycleStatus: z.enum(['Scheduled', 'Executing', 'Executed', 'Canceled', 'Inquiring']),
      publishTime: z.number(),
      notBefore: z.number(),
      finishTime: z.number().optional(),
      reason: z.string(),
    }),
  ),
});

export const simSnapshotSchema = z.object({
  version: z.literal(1),
  region: z.string(),
  zones: z.array(z.string()),
  savedAt: z.number(),
  seq: z.number().int(),
  ipCounter: z.number().int(),
  identitySigner: z.object({ keyPem: z.string(), certPem: z.string() }).nullable(),
  tokens: z.array(
    z.tuple([z.string(), z.object({ fingerprint: z.string(), instanceIds: z.array(z.string()) })]),
  ),
  instances: z.array(savedInstanceSchema),
});

export type LoadResult =
  | { loaded: true; instances: number }
  | { loaded: false; reason: 'no file' | 'reset' | 'unreadable' | 'other region'; detail?: string };

export interface SimStoreOptions {
  /** Quiet time after a change before the region is written. */
  debounceMs?: number;
  /** Longest a change waits to be written while changes keep coming. */
  maxDelayMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/**
 * Saves a SimState to one JSON file: after changes (debounced, at most `maxDelayMs` late), one write
 * at a time, atomically (a temporary file renamed over the old one), and synchronously on close.
 */
export class SimStore {
  readonly path: string;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  private timer: NodeJS.Timeout | null = null;
  private firstChangeAt: number | null = null;
  private writing: Promise<void> | null = null;
  private dirtyWhileWriting = false;
  private closed = false;

  constructor(
    private readonly state: SimState,
    dataDir: string,
    opts: SimStoreOptions = {},
  ) {
    this.path = join(dataDir, SIM_STATE_FILE);
    this.debounceMs = opts.debounceMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000;
    this.log = opts.log ?? (() => undefined);
  }

  /** Loads the file into the (empty) state, unless `reset`, absent, unreadable or another region's. */
  load(reset = false): LoadResult {
    if (reset) {
      rmSync(this.path, { force: true });
      return { loaded: false, reason: 'reset' };
    }
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { loaded: false, reason: 'no file' };
      return { loaded: false, reason: 'unreadable', detail: String(err) };
    }
    const parsed = (() => {
      try {
        return simSnapshotSchema.safeParse(JSON.parse(text));
      } catch (err) {
        return { success: false as const, error: err };
      }
    })();
    if (!parsed.success) {
      return { loaded: false, reason: 'unreadable', detail: String(parsed.error).slice(0, 300) };
    }
    const snap = parsed.data as SimSnapshot;
    if (snap.region !== this.state.region || !sameZones(snap.zones, this.state.zones)) {
      return {
        loaded: false,
        reason: 'other region',
        detail: `saved ${snap.region} [${snap.zones.join(', ')}], running ${this.state.region} [${this.state.zones.join(', ')}]`,
      };
    }
    this.state.restore(snap);
    return { loaded: true, instances: snap.instances.length };
  }

  /** Marks the state changed: it is written within debounceMs of quiet, or maxDelayMs at most. */
  changed(): void {
    if (this.closed) return;
    if (this.writing) {
      this.dirtyWhileWriting = true;
      return;
    }
    const now = Date.now();
    this.firstChangeAt ??= now;
    const due = Math.min(now + this.debounceMs, this.firstChangeAt + this.maxDelayMs);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), Math.max(0, due - now));
    this.timer.unref();
  }

  private write(): void {
    this.timer = null;
    this.firstChangeAt = null;
    const text = JSON.stringify(this.state.snapshot());
    const tmp = `${this.path}.${process.pid}.tmp`;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    this.writing = writeFile(tmp, text, { mode: 0o600 })
      .then(() => rename(tmp, this.path))
      .catch((err: unknown) => this.log('saving the region failed', { error: String(err) }))
      .finally(() => {
        this.writing = null;
        if (this.dirtyWhileWriting) {
          this.dirtyWhileWriting = false;
          this.changed();
        }
      });
  }

  /** Waits for the write in flight, then writes what is left now. */
  async flush(): Promise<void> {
    if (this.writing) await this.writing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.firstChangeAt = null;
    this.dirtyWhileWriting = false;
    this.writeSync();
  }

  /** The last write, on close: nothing changes after it. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private writeSync(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(this.state.snapshot()), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

function sameZones(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
