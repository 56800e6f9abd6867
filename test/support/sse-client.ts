type Json = Record<string, unknown>;

/** A minimal SSE client over fetch (as the console reads the stream): collects `id`/`data` frames. */
export function sse(url: string, key: string, lastEventId?: string) {
  const ctrl = new AbortController();
  const received: { id: string; data: Json }[] = [];
  let status = 0;
  const done = (async () => {
    const res = await fetch(url, {
      signal: ctrl.signal,
      headers: {
        authorization: `Bearer ${key}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    });
    status = res.status;
    if (!res.ok || !res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = /^id: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (id && data) received.push({ id, data: JSON.parse(data) as Json });
      }
    }
  })().catch(() => undefined);
  return {
    received,
    status: () => status,
    close: async () => {
      ctrl.abort();
      await done;
    },
  };
}
