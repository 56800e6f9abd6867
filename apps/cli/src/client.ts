/** A thin HTTP client for the Snowline API: JSON in, JSON or an actionable ApiError out. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class Client {
  constructor(
    readonly url: string,
    private readonly key: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError(
        0,
        `cannot reach ${this.url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    if (!res.ok) {
      const detail = typeof parsed.detail === 'string' ? parsed.detail : res.statusText;
      throw new ApiError(res.status, `${res.status} ${detail}`, parsed);
    }
    return parsed as T;
  }

  get<T>(path: string) {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}) {
    return this.call<T>('POST', path, body);
  }

  /**
   * Server-Sent Events from `/v1/events/stream`: calls `onEvent` per event until `signal` aborts.
   * Resolves once the stream is open (headers received), so nothing after that point is missed.
   */
  async stream(
    onEvent: (e: Record<string, unknown>) => void,
    signal: AbortSignal,
    lastEventId?: string,
  ): Promise<{ done: Promise<void> }> {
    const res = await fetch(`${this.url}/v1/events/stream`, {
      headers: {
        authorization: `Bearer ${this.key}`,
        accept: 'text/event-stream',
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
      signal,
    });
    if (!res.ok || !res.body) throw new ApiError(res.status, `event stream: ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const done = (async () => {
      let buf = '';
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const msg = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = msg
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) onEvent(JSON.parse(data) as Record<string, unknown>);
          }
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      }
    })();
    return { done };
  }
}
