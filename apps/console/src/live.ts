import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { client, read, withKey, type Page, type SnowEvent } from './api';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

const KEEP = 300;
const HISTORY_PAGES = 50;

/**
 * One Server-Sent Events connection for the whole console. EventSource cannot send an
 * Authorization header (and the key must never go in a URL), so this reads the stream with fetch
 * and resumes after the last event id it saw, as EventSource would.
 */
class LiveFeed {
  status: LiveStatus = 'offline';
  events: SnowEvent[] = [];
  /** True when the history was longer than what was read: older events are not shown. */
  historyTruncated = false;
  private lastId: string | null = null;
  private version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly handlers = new Set<(e: SnowEvent) => void>();
  private abort: AbortController | null = null;
  private retryMs = 2000;

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  snapshot = () => this.version;

  onEvent(fn: (e: SnowEvent) => void): () => void {
    this.handlers.add(fn);
    return () => this.handlers.delete(fn);
  }

  start(key: string): void {
    this.stop();
    this.events = [];
    this.ids.clear();
    this.lastId = null;
    const ctl = new AbortController();
    this.abort = ctl;
    this.setStatus('connecting');
    void this.run(key, ctl.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = null;
    this.setStatus('offline');
  }

  private setStatus(s: LiveStatus) {
    if (this.status === s) return;
    this.status = s;
    this.bump();
  }

  private bump() {
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Ids of the events held: a repeated id (a resent frame, a reconnect) is dropped, never shown twice. */
  private readonly ids = new Set<string>();

  /** Adds an event; false when its id was already held. */
  private push(e: SnowEvent, notify: boolean): boolean {
    if (this.ids.has(e.id)) return false;
    this.ids.add(e.id);
    this.lastId = e.id;
    this.events.push(e);
    if (this.events.length > KEEP)
      for (const old of this.events.splice(0, this.events.length - KEEP)) this.ids.delete(old.id);
    if (notify) for (const h of this.handlers) h(e);
    return true;
  }

  private async run(key: string, signal: AbortSignal): Promise<void> {
    // History first (oldest first, paged), then the stream from the last id: no gap, no duplicate.
    try {
      let after: string | null = null;
      for (let i = 0; i < HISTORY_PAGES; i++) {
        const page: Page<SnowEvent> = await read(
          client.GET('/v1/events', {
            params: { query: { limit: 100, ...(after ? { after } : {}) } },
            signal,
            ...withKey(key),
          }),
        );
        for (const e of page.items) this.push(e, false);
        after = page.nextCursor;
        if (!after) break;
        if (i === HISTORY_PAGES - 1) this.historyTruncated = true;
      }
      this.bump();
    } catch {
      if (signal.aborted) return;
    }
    while (!signal.aborted) {
      try {
        await this.stream(key, signal);
      } catch {
        // fall through to the retry below
      }
      if (signal.aborted) return;
      this.setStatus('reconnecting');
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
  }

  // Hand-written: openapi-fetch reads whole bodies, not a Server-Sent Events stream.
  private async stream(key: string, signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${key}`,
      accept: 'text/event-stream',
    };
    if (this.lastId) headers['last-event-id'] = this.lastId;
    const res = await fetch('/v1/events/stream', { headers, signal, cache: 'no-store' });
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    this.setStatus('live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        this.frame(frame);
      }
    }
  }

  private frame(frame: string) {
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(5).trimStart();
      else if (line.startsWith('retry:')) this.retryMs = Number(line.slice(6)) || this.retryMs;
    }
    if (!data) return;
    try {
      if (this.push(JSON.parse(data) as SnowEvent, true)) this.bump();
    } catch {
      // A frame we cannot read is skipped; the next one carries its own id.
    }
  }
}

export const live = new LiveFeed();

/** The events with each id once (the first copy kept), for lists keyed by event id. */
export function uniqueById(events: SnowEvent[]): SnowEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && (seen.add(e.id), true));
}

export function useLive(): LiveFeed {
  useSyncExternalStore(live.subscribe, live.snapshot);
  return live;
}

/** The current time, ticking, so ages stay true without a reload. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** When the data was fetched (ms), for ages reported relative to the response. */
  fetchedAt: number;
  reload: () => void;
}

/**
 * Loads with `load`, and loads again (debounced, keeping the old data on screen) when a live event
 * matches `refreshOn`, and every `pollMs` when given (for observations that change without events).
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
  opts: { refreshOn?: (e: SnowEvent) => boolean; pollMs?: number } = {},
): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; at: number }>({
    loading: true,
    at: 0,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const optsRef = useRef(opts);
  optsRef.current = opts;

  useEffect(() => {
    setState((s) => ({ ...s, data: undefined, error: undefined, loading: true }));
    // `deps` are the caller's: a change of them (not of `opts`) starts a fresh load.
  }, deps);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(ctl.signal).then(
      (data) => setState({ data, error: undefined, loading: false, at: Date.now() }),
      (error: Error) => {
        if (ctl.signal.aborted) return;
        setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => ctl.abort();
    // The loader is read through a ref; only the caller's `deps` and the tick re-run it.
  }, [...deps, tick]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.onEvent((e) => {
      if (!optsRef.current.refreshOn?.(e)) return;
      clearTimeout(timer);
      timer = setTimeout(() => setTick((t) => t + 1), 250);
    });
    const poll = opts.pollMs ? setInterval(() => setTick((t) => t + 1), opts.pollMs) : undefined;
    return () => {
      off();
      clearTimeout(timer);
      clearInterval(poll);
    };
  }, [opts.pollMs]);

  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    fetchedAt: state.at,
    reload: () => setTick((t) => t + 1),
  };
}
