import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHostFetch } from './host-fetch';

describe(createHostFetch.name, () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; auth?: string; type?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({
          method: req.method,
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          body,
        });
        if (req.url === '/slow') return; // never answers
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echo: body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const hostFetch = createHostFetch({ maxSockets: 4 });

  it('should send method, headers and body, and return status and text', async () => {
    const res = await hostFetch(`${url}/v1/agent/lease`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(JSON.parse(await res.text())).toEqual({ echo: '{"a":1}' });
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      auth: 'Bearer t',
      type: 'application/json',
      body: '{"a":1}',
    });
  });

  it('should pass a non-2xx status through', async () => {
    const res = await hostFetch(`${url}/missing`, { method: 'POST', body: '' });
    expect(res.status).toBe(404);
    expect(res.ok).toBe(false);
  });

  it('should reject with the signal reason when it times out', async () => {
    const err = await hostFetch(`${url}/slow`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(50),
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('should reject like fetch when nothing listens', async () => {
    const err = await hostFetch('http://127.0.0.1:1/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('fetch failed');
  });

  it('should serve many concurrent requests over a few sockets', async () => {
    const all = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        hostFetch(`${url}/n`, { method: 'POST', body: String(i) }).then((r) => r.text()),
      ),
    );
    expect(all.map((t) => (JSON.parse(t) as { echo: string }).echo)).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
  });
});
