import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AvalancheNodeClient, NodeBadResponse, NodeRpcError, NodeUnreachable } from './node-client';
import { HealthResponse } from './node-schemas';

const healthy: HealthResponse = {
  checks: {
    network: {
      message: { connectedPeers: 12 },
      timestamp: '2026-01-01T00:00:00Z',
      duration: 1000,
      contiguousFailures: 0,
      timeOfFirstFailure: null,
    },
  },
  healthy: true,
};

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe(AvalancheNodeClient.name, () => {
  let server: Server;
  let handler: Handler;
  let client: AvalancheNodeClient;
  let lastRequest: { method?: string; url?: string; contentType?: string; body: string };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        lastRequest = {
          method: req.method,
          url: req.url,
          contentType: req.headers['content-type'],
          body,
        };
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    client = new AvalancheNodeClient(`http://127.0.0.1:${port}/`, { timeoutMs: 300 });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const reply =
    (status: number, body: unknown): Handler =>
    (_req, _b, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  const rpcResult =
    (result: unknown): Handler =>
    (_req, b, res) => {
      const { id } = JSON.parse(b) as { id: number };
      reply(200, { jsonrpc: '2.0', id, result })(_req, b, res);
    };

  it('should return a healthy report on 200', async () => {
    handler = reply(200, healthy);
    await expect(client.health()).resolves.toEqual(healthy);
    expect(lastRequest.url).toBe('/ext/health');
  });

  it('should return an unhealthy report on 503 (same body shape), not throw', async () => {
    handler = reply(503, { ...healthy, healthy: false });
    await expect(client.readiness()).resolves.toMatchObject({ healthy: false });
    expect(lastRequest.url).toBe('/ext/health/readiness');
  });

  it('should hit liveness', async () => {
    handler = reply(200, { checks: {}, healthy: true });
    await expect(client.liveness()).resolves.toEqual({ checks: {}, healthy: true });
    expect(lastRequest.url).toBe('/ext/health/liveness');
  });

  it('should refuse a health body that does not validate', async () => {
    handler = reply(200, { healthy: 'yes' });
    await expect(client.health()).rejects.toBeInstanceOf(NodeBadResponse);
  });

  it('should refuse an unexpected status', async () => {
    handler = reply(500, healthy);
    await expect(client.health()).rejects.toBeInstanceOf(NodeBadResponse);
  });

  it('should refuse a non-JSON body', async () => {
    handler = reply(200, '<html>');
    await expect(client.health()).rejects.toBeInstanceOf(NodeBadResponse);
  });

  it('should call info.getNodeID as JSON-RPC with a JSON content type', async () => {
    const result = {
      nodeID: 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg',
      nodePOP: { publicKey: '0x' + 'ab'.repeat(48), proofOfPossession: '0x' + 'cd'.repeat(96) },
    };
    handler = rpcResult(result);
    await expect(client.getNodeID()).resolves.toEqual(result);
    expect(lastRequest).toMatchObject({
      method: 'POST',
      url: '/ext/info',
      contentType: 'application/json',
    });
    expect(JSON.parse(lastRequest.body)).toMatchObject({
      jsonrpc: '2.0',
      method: 'info.getNodeID',
    });
  });

  it('should pass the chain to info.isBootstrapped and return the boolean', async () => {
    handler = rpcResult({ isBootstrapped: false });
    await expect(client.isBootstrapped('P')).resolves.toBe(false);
    expect(JSON.parse(lastRequest.body)).toMatchObject({
      method: 'info.isBootstrapped',
      params: { chain: 'P' },
    });
  });

  it('should parse info.getNodeVersion', async () => {
    const v = {
      version: 'avalanchego/1.13.0',
      databaseVersion: 'v1.4.5',
      rpcProtocolVersion: '39',
      gitCommit: 'abc',
      vmVersions: { platform: 'v1.13.0' },
    };
    handler = rpcResult(v);
    await expect(client.getNodeVersion()).resolves.toEqual(v);
  });

  it('should map a JSON-RPC error (HTTP 200) to NodeRpcError', async () => {
    handler = (_req, b, res) =>
      reply(200, {
        jsonrpc: '2.0',
        id: (JSON.parse(b) as { id: number }).id,
        error: { code: -32000, message: 'there is no chain with alias/ID of X' },
      })(_req, b, res);
    const err = await client.isBootstrapped('X').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeRpcError);
    expect(err).toMatchObject({ code: -32000, method: 'info.isBootstrapped' });
  });

  it('should refuse a result that does not validate rather than default it', async () => {
    handler = rpcResult({});
    await expect(client.isBootstrapped('P')).rejects.toBeInstanceOf(NodeBadResponse);
  });

  it('should map a timeout to NodeUnreachable', async () => {
    handler = () => undefined; // never answers
    const err = await client.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeUnreachable);
    expect(err).toMatchObject({ reason: 'timeout' });
  });

  it('should map a refused connection to NodeUnreachable', async () => {
    const dead = new AvalancheNodeClient('http://127.0.0.1:1', { timeoutMs: 500 });
    const err = await dead.getNodeID().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeUnreachable);
    expect(err).toMatchObject({ reason: 'network' });
  });

  it('should use an injected fetch', async () => {
    const fetchImpl = jest.fn(async () => new Response(JSON.stringify(healthy), { status: 200 }));
    const c = new AvalancheNodeClient('http://node', {
      fetch: fetchImpl as unknown as typeof fetch,
    });
    await expect(c.health()).resolves.toEqual(healthy);
    expect(fetchImpl).toHaveBeenCalledWith('http://node/ext/health', expect.anything());
  });
});
