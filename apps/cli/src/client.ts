import { createSnowlineClient, type SnowlineClient } from '@snowline/api-client';

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

type Answer = { data?: unknown; error?: unknown; response: Response };
/** What an answer holds on success: the body type the API's document declares for the call. */
export type Body<A extends Answer> = NonNullable<A['data']>;

export class Client {
  /** Typed by the API's OpenAPI document (libs/api-client); responses are read with `read`. */
  readonly api: SnowlineClient;

  constructor(
    readonly url: string,
    private readonly key: string,
  ) {
    this.api = createSnowlineClient(url, { key });
  }

  /**
   * The body of a 2xx answer, typed by the call's route, or an ApiError saying what went wrong
   * (`status detail`).
   */
  async read<A extends Answer>(call: Promise<A>): Promise<Body<A>> {
    let r: Answer;
    try {
      r = await call;
    } catch (err) {
      throw new ApiError(
        0,
        `cannot reach ${this.url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
      );
    }
    const { response: res } = r;
    if (!res.ok) {
      const parsed: Record<string, unknown> =
        r.error && typeof r.error === 'object'
          ? (r.error as Record<string, unknown>)
          : r.error
            ? { detail: String(r.error).slice(0, 200) }
            : {};
      const detail = typeof parsed.detail === 'string' ? parsed.detail : res.statusText;
      throw new ApiError(res.status, `${res.status} ${detail}`, parsed);
    }
    return (r.data ?? {}) as Body<A>;
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
