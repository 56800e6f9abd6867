import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Event-loop utilization (0–1) since the previous reading: how busy the API is serving requests. */
export function loopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, last);
    last = now;
    return since.utilization;
  };
}

export interface QuietLoopOptions {
  /** Utilization at or above which the loop counts as busy. */
  busy: number;
  /** How long to wait between readings. */
  stepMs: number;
  /** The longest wait, so background work slows down under load but never stops. */
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  stopped: () => boolean;
}

/**
 * Waits while the event loop is busy, at most `maxMs`; resolves with how long it waited. Background
 * work that also needs the event loop (sealing, storing and enqueueing each generated identity) thus
 * yields to requests instead of adding to their latency when the API is loaded.
 */
export async function waitForQuietLoop(
  utilization: () => number,
  o: QuietLoopOptions,
): Promise<number> {
  let waited = 0;
  while (!o.stopped() && waited < o.maxMs && utilization() >= o.busy) {
    await o.sleep(o.stepMs);
    waited += o.stepMs;
  }
  return waited;
}
