import * as agentLib from '@snowline/agent';
import type { HostReport, HostFactory, SimHost } from './state';

/**
 * The shape of libs/agent this file relies on. Declared here (and checked at run time) because the
 * agent library is written alongside the simulator; the simulator must keep working without it.
 */
interface SimDriver {
  handle(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  report():
    | Promise<Partial<HostReport> & Record<string, unknown>>
    | (Partial<HostReport> & Record<string, unknown>);
}
interface AgentInstance {
  start?(): unknown;
  stop?(): unknown;
}
interface AgentLib {
  userDataSchema: { safeParse(v: unknown): { success: boolean; data?: unknown } };
  Agent: new (opts: {
    userData: unknown;
    instanceId: string;
    driver: SimDriver;
    fetch?: typeof fetch;
  }) => AgentInstance;
  SimulatedNodeDriver: new (opts: { bootstrapMs: number }) => SimDriver;
}

export interface AgentHostOptions {
  bootstrapMs: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

function settle(result: unknown, onError: (err: unknown) => void): void {
  if (result instanceof Promise) result.catch(onError);
}

/** Default host: the real agent from libs/agent with a simulated AvalancheGo, for Snowline UserData only. */
export function createAgentHostFactory(opts: AgentHostOptions): HostFactory {
  const lib = agentLib as unknown as Partial<AgentLib>;
  const log = opts.log ?? (() => undefined);
  let warned = false;
  return ({ instanceId, zoneId, userData, fetch }) => {
    if (!lib.userDataSchema || !lib.Agent || !lib.SimulatedNodeDriver) {
      if (!warned)
        log('libs/agent does not export Agent/SimulatedNodeDriver/userDataSchema yet: no hosts');
      warned = true;
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(userData);
    } catch {
      return null;
    }
    const parsed = lib.userDataSchema.safeParse(json);
    if (!parsed.success) return null;
    const driver = new lib.SimulatedNodeDriver({ bootstrapMs: opts.bootstrapMs });
    const agent = new lib.Agent({ userData: parsed.data, instanceId, driver, fetch });
    const onError = (err: unknown): void =>
      log('agent failed', { instanceId, zoneId, error: String(err) });
    settle(agent.start?.(), onError);
    const host: SimHost = {
      stop: () => settle(agent.stop?.(), onError),
      handle: (method, path, body) => driver.handle(method, path, body),
      report: async () => {
        const r = await driver.report();
        return {
          nodeId: typeof r.nodeId === 'string' ? r.nodeId : null,
          running: r.running === true,
          bootstrapped: typeof r.bootstrapped === 'boolean' ? r.bootstrapped : null,
        };
      },
    };
    return host;
  };
}
