import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZodError } from 'zod';
import { ACTIONS, type Query } from './actions';
import { FaultRegistry } from './faults';
import type { NetworkUpgrade } from '@snowline/domain';
import { createHostFetch } from './host-fetch';
import { SimStore } from './persistence';
import {
  GroundTruthSampler,
  handleNetworkRpc,
  isNetworkRpc,
  NetworkView,
  PChainRejected,
} from './pchain';
import { RELEASE_PATH_RE, simulatedRelease } from './releases';
import { ActionRateLimiter, DEFAULT_RATE_LIMITS, type RateLimit } from './rate-limit';
import { verifyRequest } from './signature';
import { SimApiError } from './sim-error';
import { SimState, type HostFactory, type HostReport } from './state';

export const ECS_API_VERSION = '2014-05-26';
const MAX_BODY_BYTES = 1024 * 1024;
const TICK_MS = 20;

export type SimLog = (msg: string, fields?: Record<string, unknown>) => void;

export interface EcsSimOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  accessKeyId: string;
  accessKeySecret: string;
  region?: string;
  zones?: string[];
  /** Multiplies every lifecycle delay (0.1 = ten times faster). */
  timeScale?: number;
  /** How long a simulated node takes to bootstrap (passed to the default host factory). */
  bootstrapMs?: number;
  /** The hosts' agents self-fence this long before their lease ends (passed to the default host factory). */
  agentStopBudgetMs?: number;
  /** Runs each Running instance's host; defaults to the real agent with a simulated AvalancheGo. */
  hostFactory?: HostFactory;
  /** true = DEFAULT_RATE_LIMITS; or per-action limits (`'*'` for the rest). Off by default. */
  rateLimits?: boolean | Record<string, RateLimit>;
  maxInstances?: number;
  log?: SimLog;
  /** How hosts reach the control plane (default: a pooled node:http client, see host-fetch.ts). */
  hostFetch?: typeof fetch;
  /** For deterministic fault probabilities in tests. */
  random?: () => number;
  /**
   * Keeps the region (instances, statuses, disks, the identity signer) in `<dataDir>/ecs-sim-state.json`
   * and loads it at start, so a restart finds the instances it left. Memory only when absent.
   */
  dataDir?: string;
  /** Start from an empty region, deleting the saved one. */
  reset?: boolean;
  /** Network-upgrade activations the simulated nodes follow (passed to the default host factory). */
  calendar?: readonly NetworkUpgrade[];
  /** Versions whose nodes start but never bootstrap: bad builds (passed to the default host factory). */
  brokenReleases?: readonly string[];
}

export interface EcsSim {
  url: string;
  port: number;
  state: SimState;
  faults: FaultRegistry;
  /** The saved region, when started with a dataDir. */
  store: SimStore | null;
  /** The P-chain every simulated node answers from (see pchain.ts). */
  pchain: NetworkView;
  close(): Promise<void>;
}

/** Parses a raw query string as the SDK writes it (querystring.stringify: %20 for space, '+' literal-encoded). */
export function parseQuery(raw: string): Query {
  const out: Query = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out[decode(k)] = decode(v);
  }
  return out;
}

function decode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SimApiError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the ECS simulator: the ECS RPC API at `/`, node APIs at `/_nodes/<id>/…`, control at `/_sim/…`. */
export async function startEcsSim(opts: EcsSimOptions): Promise<EcsSim> {
  const log: SimLog = opts.log ?? (() => undefined);
  let hostFactory = opts.hostFactory;
  if (!hostFactory) {
    // Loaded lazily: the default hosts pull in the agent, which tests with their own factory don't need.
    const { createAgentHostFactory } = await import('./hosts');
    hostFactory = createAgentHostFactory({
      bootstrapMs: opts.bootstrapMs ?? 3000,
      stopBudgetMs: opts.agentStopBudgetMs,
      log,
      calendar: opts.calendar,
      brokenReleases: opts.brokenReleases,
      // The agent reads its node on the instance itself, as on 127.0.0.1:9650: in process.
      nodeFetch: (instanceId) => localNodeFetch(instanceId),
    });
  }
  const state = new SimState({
    region: opts.region,
    zones: opts.zones,
    timeScale: opts.timeScale,
    maxInstances: opts.maxInstances,
    hostFactory,
    log,
    fetch: opts.hostFetch ?? createHostFetch(),
    onChange: () => store?.changed(),
  });
  let store: SimStore | null = null;
  if (opts.dataDir) {
    store = new SimStore(state, opts.dataDir, { log });
    const loaded = store.load(opts.reset);
    if (loaded.loaded) {
      log('region loaded', { file: store.path, instances: loaded.instances });
    } else {
      log('starting with an empty region', {
        file: store.path,
        reason: loaded.reason,
        ...(loaded.detail ? { detail: loaded.detail } : {}),
      });
    }
    store.changed();
  }
  const faults = new FaultRegistry(state, opts.random);
  // Not saved with the region: a restarted simulator starts a new P-chain.
  const pchain = new NetworkView({ now: state.now, timeScale: opts.timeScale });
  const sampler = new GroundTruthSampler(state, pchain);
  const limiter = opts.rateLimits
    ? new ActionRateLimiter(opts.rateLimits === true ? DEFAULT_RATE_LIMITS : opts.rateLimits)
    : null;
  const secrets = new Map([[opts.accessKeyId, opts.accessKeySecret]]);
  const calls = new Map<string, number>();
  const hostId = `ecs.${state.region}.aliyuncs.com`;

  function sendError(res: ServerResponse, requestId: string, err: SimApiError): void {
    sendJson(
      res,
      err.status,
      {
        RequestId: requestId,
        HostId: hostId,
        Code: err.code,
        Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=Ecs`,
      },
      { 'x-acs-request-id': requestId, ...err.headers },
    );
  }

  async function handleEcs(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    rawQuery: string,
  ): Promise<void> {
    const requestId = state.newRequestId();
    try {
      const body = await readBody(req);
      const query = parseQuery(rawQuery);
      const verdict = verifyRequest(
        { method: req.method ?? 'GET', pathname, query, headers: req.headers, body },
        secrets,
      );
      if (!verdict.ok) throw new SimApiError(verdict.status, verdict.code, verdict.message);
      const action = String(req.headers['x-acs-action'] ?? '');
      const version = String(req.headers['x-acs-version'] ?? '');
      if (version !== ECS_API_VERSION) {
        throw new SimApiError(
          400,
          'InvalidVersion',
          `Specified parameter Version ${version} is not valid.`,
        );
      }
      const handler = Object.prototype.hasOwnProperty.call(ACTIONS, action)
        ? ACTIONS[action]
        : undefined;
      if (!handler) {
        throw new SimApiError(
          404,
          'InvalidAction.NotFound',
          `Specified api ${action} is not found, please check your url and method.`,
        );
      }
      const fault = faults.forAction(action);
      if (fault?.latencyMs) await sleep(fault.latencyMs);
      if (fault?.error && fault.when !== 'after') throw fault.error;
      limiter?.take(action);
      const result = handler(state, query);
      if (fault?.error) throw fault.error;
      calls.set(action, (calls.get(action) ?? 0) + 1);
      sendJson(res, 200, { RequestId: requestId, ...result }, { 'x-acs-request-id': requestId });
    } catch (err) {
      if (err instanceof SimApiError) {
        sendError(res, requestId, err);
        return;
      }
      log('internal error', { error: String(err) });
      sendError(
        res,
        requestId,
        new SimApiError(
          500,
          'InternalError',
          'The request processing has failed due to some unknown error.',
        ),
      );
    }
  }

  /**
   * What a node's HTTP API answers; 'unreachable' when nothing would (no route to it). `local`: asked
   * on the instance itself (its agent on 127.0.0.1), which a zone partition does not cut.
   */
  async function answerNode(
    instanceId: string,
    method: string,
    path: string,
    body: unknown,
    local: boolean,
  ): Promise<{ status: number; body: unknown } | 'unreachable'> {
    const inst = state.instances.get(instanceId);
    const lingering = inst ? undefined : state.lingering.get(instanceId);
    if (!inst && !lingering) return { status: 404, body: { error: `no instance ${instanceId}` } };
    const zoneId = inst?.zoneId ?? lingering!.zoneId;
    // As a network would: no answer at all.
    if ((!local && state.isPartitioned(zoneId)) || inst?.powerLost) return 'unreachable';
    // A deleted instance whose guest is still up answers, as its address would until it dies.
    const host = inst ? inst.host : lingering!.host;
    if (!host) {
      return {
        status: 502,
        body: { error: `instance ${instanceId} runs no host (status ${inst?.status})` },
      };
    }
    const route = path.split('?')[0].replace(/\/+$/, '');
    if (isNetworkRpc(route, body)) {
      // The P-chain and info.uptime come from the network's view, answered by a running node only.
      const report = host.report ? await host.report() : null;
      if (!report?.running || !report.nodeId)
        return { status: 503, body: { error: 'node not running' } };
      if (method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
      return { status: 200, body: handleNetworkRpc(pchain, route, report.nodeId, body) };
    }
    return host.handle(method, path, body);
  }

  async function handleNode(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    rawQuery: string,
  ): Promise<void> {
    const rest = pathname.slice('/_nodes/'.length);
    const slash = rest.indexOf('/');
    const instanceId = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    const path = (slash < 0 ? '/' : rest.slice(slash)) + (rawQuery ? `?${rawQuery}` : '');
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        sendJson(res, 400, { error: 'body is not JSON' });
        return;
      }
    }
    const out = await answerNode(instanceId, req.method ?? 'GET', path, body, false);
    if (out === 'unreachable') {
      req.socket.destroy();
      return;
    }
    sendJson(res, out.status, out.body ?? null);
  }

  /** `fetch` for a node's API from its own instance (what an agent's AvalancheNodeClient uses). */
  function localNodeFetch(instanceId: string): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const text = typeof init?.body === 'string' ? init.body : '';
      const out = await answerNode(
        instanceId,
        init?.method ?? 'GET',
        url.pathname + url.search,
        text ? (JSON.parse(text) as unknown) : undefined,
        true,
      );
      if (out === 'unreachable') throw new TypeError('fetch failed');
      return new Response(JSON.stringify(out.body ?? null), {
        status: out.status,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
  }

  function sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, {
      'content-type': 'text/plain;charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  /**
   * The metadata service of one instance, as a process on it sees 100.100.100.200: what tests use
   * to play someone who got onto the instance (or read its UserData).
   */
  function handleMetadata(res: ServerResponse, instanceId: string, path: string, rawQuery: string) {
    const inst = state.instances.get(instanceId);
    if (!inst || inst.status !== 'Running') return sendText(res, 404, 'Not Found');
    if (path === '/latest/meta-data/instance-id') return sendText(res, 200, inst.instanceId);
    if (path === '/latest/meta-data/zone-id') return sendText(res, 200, inst.zoneId);
    if (path === '/latest/user-data') return sendText(res, 200, inst.userData);
    if (path === '/latest/dynamic/instance-identity/document')
      return sendText(res, 200, JSON.stringify(state.identityDocument(inst)));
    if (path === '/latest/dynamic/instance-identity/pkcs7') {
      const audience = new URLSearchParams(rawQuery).get('audience') ?? undefined;
      return sendText(res, 200, state.signIdentity(inst, audience).pkcs7);
    }
    return sendText(res, 404, 'Not Found');
  }

  async function handleSim(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    rawQuery = '',
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (pathname === '/_sim/healthz') {
      sendJson(res, 200, { ok: true });
      return;
    }
    const release = RELEASE_PATH_RE.exec(pathname);
    if (release && method === 'GET') {
      const bytes = simulatedRelease(release[1]!);
      res.writeHead(200, {
        'content-type': 'application/gzip',
        'content-length': bytes.length,
      });
      res.end(bytes);
      return;
    }
    if (pathname === '/_sim/identity-certificate' && method === 'GET') {
      return sendText(res, 200, state.identitySigner.certPem);
    }
    const meta = /^\/_sim\/instances\/([^/]+)\/metadata(\/.*)$/.exec(pathname);
    if (meta && method === 'GET') {
      return handleMetadata(res, decodeURIComponent(meta[1]), meta[2], rawQuery);
    }
    if (pathname === '/_sim/nodes' && method === 'GET') {
      // Deleted instances whose guests still run (stop-lag) are listed as `Deleted`: ECS no longer
      // knows them, but their nodes are real.
      const entries = [
        ...[...state.instances.values()].map((i) => ({
          instanceId: i.instanceId,
          zoneId: i.zoneId,
          status: i.status as string,
          host: i.host,
        })),
        ...[...state.lingering.values()].map((l) => ({ ...l, status: 'Deleted' })),
      ];
      const nodes = await Promise.all(
        entries.map(async (inst) => {
          const host = inst.host;
          // No host means no node: that is known, not unknown.
          let report: HostReport = { nodeId: null, running: false, bootstrapped: false };
          let error: string | undefined;
          if (host?.report) {
            try {
              report = await host.report();
            } catch (err) {
              error = String(err);
              report = { nodeId: null, running: false, bootstrapped: null };
            }
          }
          return {
            instanceId: inst.instanceId,
            zone: inst.zoneId,
            status: inst.status,
            hosted: host !== null,
            nodeId: report.nodeId,
            running: report.running,
            bootstrapped: report.bootstrapped,
            version: report.version ?? null,
            validating: report.running && report.validating !== false,
            trackedSubnets: report.trackedSubnets ?? [],
            ...(error ? { error } : {}),
          };
        }),
      );
      sendJson(res, 200, nodes);
      return;
    }
    if (pathname === '/_sim/pchain/validators') {
      if (method === 'GET') {
        await sampler.sampleNow();
        sendJson(res, 200, pchain.list());
        return;
      }
      if (method === 'POST') {
        const raw = await readBody(req);
        try {
          const tx = pchain.register(JSON.parse(raw.toString('utf8') || '{}'));
          log('validator registered', { ...tx });
          await sampler.sampleNow();
          sendJson(res, 201, tx);
        } catch (err) {
          if (!(err instanceof PChainRejected) && !(err instanceof SyntaxError)) throw err;
          sendJson(res, 400, { error: 'transaction refused', detail: err.message });
        }
        return;
      }
    }
    if (pathname === '/_sim/state' && method === 'GET') {
      const byStatus: Record<string, number> = {};
      for (const i of state.instances.values()) byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
      sendJson(res, 200, {
        instances: state.instances.size,
        lingering: state.lingering.size,
        byStatus,
        timers: state.pendingTimers,
        faults: faults.list().length,
        // Calls answered 200, by action (what a test counts RunInstances calls with).
        calls: Object.fromEntries(calls),
      });
      return;
    }
    if (pathname === '/_sim/faults') {
      if (method === 'GET') {
        sendJson(res, 200, faults.list());
        return;
      }
      if (method === 'DELETE') {
        sendJson(res, 200, { removed: faults.clear() });
        return;
      }
      if (method === 'POST') {
        const raw = await readBody(req);
        try {
          const fault = faults.add(JSON.parse(raw.toString('utf8') || '{}'));
          log('fault added', { fault });
          sendJson(res, 201, fault);
        } catch (err) {
          const detail =
            err instanceof ZodError
              ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
              : [String(err)];
          sendJson(res, 400, { error: 'invalid fault', detail });
        }
        return;
      }
    }
    const m = /^\/_sim\/faults\/([^/]+)$/.exec(pathname);
    if (m && method === 'DELETE') {
      const removed = faults.remove(decodeURIComponent(m[1]!));
      sendJson(res, removed ? 200 : 404, { removed });
      return;
    }
    sendJson(res, 404, { error: `no route ${method} ${pathname}` });
  }

  const server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const work = pathname.startsWith('/_sim/')
      ? handleSim(req, res, pathname, rawQuery)
      : pathname.startsWith('/_nodes/')
        ? handleNode(req, res, pathname, rawQuery)
        : handleEcs(req, res, pathname, rawQuery);
    work.catch((err: unknown) => {
      log('request failed', { error: String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const ticker = setInterval(() => {
    state.tick();
    sampler.tick();
  }, TICK_MS);
  ticker.unref();
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | null = null;
  return {
    url,
    port,
    state,
    faults,
    store,
    pchain,
    close(): Promise<void> {
      closed ??= (async () => {
        clearInterval(ticker);
        // Saved before the hosts stop: their disks are read from them.
        await store
          ?.close()
          .catch((err: unknown) => log('saving the region failed', { error: String(err) }));
        state.stopAllHosts();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
