import * as agentLib from '@snowline/agent';
import type { HostFactory, HostReport, SimHost } from './state';

/**
 * The parts of libs/agent this file relies on. Declared here and checked at run time because the
 * agent library is written alongside the simulator: without it, instances simply run no host.
 */
type Keys = unknown;
interface SimDriver {
  start(keys: Keys): Promise<void>;
  stop(): Promise<void>;
  report(): Promise<Partial<HostReport>>;
  handle(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }>;
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

/**
 * Default host: the real agent from libs/agent with a simulated AvalancheGo, for Snowline UserData
 * only. The node's keys live on a simulated disk: after a stop or a power cut the node comes back
 * under its old identity before the agent can say a word, which is what fencing must cope with.
 */
export function createAgentHostFactory(opts: AgentHostOptions): HostFactory {
  const lib = agentLib as unknown as Partial<AgentLib>;
  const log = opts.log ?? (() => undefined);
  let warned = false;
  return ({ instanceId, zoneId, userData, fetch }) => {
    const { userDataSchema, Agent, SimulatedNodeDriver } = lib;
    if (!userDataSchema || !Agent || !SimulatedNodeDriver) {
      if (!warned)
        log('libs/agent does not export Agent/SimulatedNodeDriver/userDataSchema: no hosts');
      warned = true;
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(userData);
    } catch {
      return null;
    }
    const parsed = userDataSchema.safeParse(json);
    if (!parsed.success) return null;

    class DiskBackedDriver extends SimulatedNodeDriver {
      disk: Keys | null = null;
      powerCut = false;
      override async start(keys: Keys): Promise<void> {
        this.disk = keys;
        await super.start(keys);
      }
      override async stop(): Promise<void> {
        // The agent stopping its node deletes the keys; losing power does not.
        if (!this.powerCut) this.disk = null;
        await super.stop();
      }
    }
    const driver = new DiskBackedDriver({ bootstrapMs: opts.bootstrapMs });
    const onError = (err: unknown): void =>
      log('agent failed', { instanceId, zoneId, error: String(err) });
    let agent: AgentInstance | null = null;
    const boot = (hostFetch: typeof fetch): void => {
      agent = new Agent({ userData: parsed.data, instanceId, driver, fetch: hostFetch });
      settle(agent.start?.(), onError);
    };
    boot(fetch);

    const host: SimHost = {
      stop: () => {
        driver.powerCut = false;
        settle(agent?.stop?.(), onError);
        agent = null;
        settle(driver.stop(), onError);
      },
      powerOff: () => {
        driver.powerCut = true;
        settle(agent?.stop?.(), onError);
        agent = null;
        settle(driver.stop(), onError);
      },
      powerOn: (ctx) => {
        driver.powerCut = false;
        const disk = driver.disk;
        // avalanchego is a boot service: it starts from the keys on disk, then the agent starts.
        const restarted = disk !== null ? driver.start(disk) : Promise.resolve();
        restarted.then(() => boot(ctx.fetch), onError);
      },
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
