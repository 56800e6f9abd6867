import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(60_000);

/** Issue 18 point 5: open SSE streams are capped per API key (429 with Retry-After), not unlimited. */
describe('SSE streams per key', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('sse-cap', { SSE_MAX_STREAMS_PER_KEY: '2' });
  });
  afterAll(async () => h?.stop());

  const open = async (key: string) => {
    const abort = new AbortController();
    const res = await h.api('/v1/events/stream', { key, signal: abort.signal });
    return { res, close: () => abort.abort() };
  };

  it('should refuse a key its third stream with 429 and Retry-After, and let it open one once one closes', async () => {
    const { key } = await h.tenant('sse', ['events:read']);
    const a = await open(key);
    const b = await open(key);
    expect([a.res.status, b.res.status]).toEqual([200, 200]);

    const c = await open(key);
    expect(c.res.status).toBe(429);
    expect(c.res.headers.get('retry-after')).toBe('10');
    expect(((await c.res.json()) as { detail: string }).detail).toContain(
      'already holds 2 open event streams here (SSE_MAX_STREAMS_PER_KEY is 2)',
    );

    // Another key is not held back by this one's streams.
    const other = await open((await h.tenant('sse-other', ['events:read'])).key);
    expect(other.res.status).toBe(200);
    other.close();

    // A closed stream frees its slot (the server sees the close a moment later).
    a.close();
    let d = await open(key);
    for (let i = 0; i < 20 && d.res.status === 429; i++) {
      await d.res.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
      d = await open(key);
    }
    expect(d.res.status).toBe(200);
    b.close();
    d.close();
  });
});
