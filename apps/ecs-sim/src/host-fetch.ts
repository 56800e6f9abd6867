import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HostFetchOptions {
  /** Sockets per control-plane origin, shared by every simulated host (default 256). */
  maxSockets?: number;
}

/**
 * The subset of `fetch` a host agent uses (method, headers, string body, signal → status + text),
 * over node:http with one keep-alive pool for all simulated hosts. 10,000 agents on the global
 * fetch each open their own socket and allocate web streams per request; this keeps the simulator
 * within its memory budget while the control plane sees the same requests.
 */
export function createHostFetch(opts: HostFetchOptions = {}): typeof fetch {
  const maxSockets = opts.maxSockets ?? 256;
  const http = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const hostFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const secure = url.protocol === 'https:';
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = typeof init.body === 'string' ? init.body : undefined;
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method: init.method ?? 'GET', headers, agent: secure ? https : http },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) =>
            finish(() => reject(new TypeError('fetch failed', { cause: err }))),
          );
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            finish(() => resolve(lightResponse(status, text)));
          });
        },
      );
      function onAbort(): void {
        finish(() => reject(signal!.reason));
        req.destroy();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => finish(() => reject(new TypeError('fetch failed', { cause: err }))));
      req.end(body);
    });
  return hostFetch as typeof fetch;
}

/** What the agent reads of a Response (status, ok, text, json), without web streams. */
function lightResponse(status: number, text: string): Response {
  const res = {
    status,
    ok: status >= 200 && status < 300,
    text: () => Promise.resolve(text),
    json: () => Promise.resolve(JSON.parse(text) as unknown),
  };
  return res as unknown as Response;
}
