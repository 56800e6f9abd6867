import { z } from 'zod';
import {
  Agent,
  hostKeysSchema,
  memoryHostKeyStore,
  SimulatedNodeDriver,
  userDataSchema,
  type HostKeyStore,
} from '@snowline/agent';
import { generateIdentity, type StakingKeyMaterial } from '@snowline/avalanche';
import type { HostFactory, SimHost } from './state';

/** A simulated node; `disk` mirrors the keys the agent wrote (on tmpfs: gone after a power cut). */
class DiskBackedDriver extends SimulatedNodeDriver {
  disk: StakingKeyMaterial | null = null;
  powerCut = false;

  override async start(keys: StakingKeyMaterial): Promise<void> {
    this.disk = keys;
    await super.start(keys);
  }

  override async stop(timeoutMs?: number): Promise<void> {
    // The agent stopping its node deletes the keys; losing power does not.
    if (!this.powerCut) this.disk = null;
    await super.stop(timeoutMs);
  }
}

export interface AgentHostOptions {
  bootstrapMs: number;
  /** The agents' stop budget (config.agent.stopBudgetSeconds); default: the agent's own. */
  stopBudgetMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** What an agent host keeps on its instance's disk across power cuts and simulator restarts. */
const agentDiskSchema = z.object({ hostKeys: hostKeysSchema.nullable() });
export type AgentDisk = z.infer<typeof agentDiskSchema>;

function settle(result: unknown, onError: (err: unknown) => void): void {
  if (result instanceof Promise) result.catch(onError);
}

/**
 * Default host: the real agent from libs/agent with a simulated AvalancheGo, for Snowline UserData
 * only. As on a real Snowline host, the staking keys live on tmpfs and only the agent starts the
 * node: after a power cut nothing runs until the control plane re-arms the host (or fences it).
 */
export function createAgentHostFactory(opts: AgentHostOptions): HostFactory {
  const log = opts.log ?? (() => undefined);
  return ({ instanceId, zoneId, userData, fetch, identity, disk, diskChanged }) => {
    let json: unknown;
    try {
      json = JSON.parse(userData);
    } catch {
      return null;
    }
    const parsed = userDataSchema.safeParse(json);
    if (!parsed.success) return null;
    const agentLog = (msg: string, fields?: object): void =>
      log(msg, { instanceId, zoneId, ...fields });

    const driver = new DiskBackedDriver({ bootstrapMs: opts.bootstrapMs });
    // The host key lives on the instance's disk: it survives a power cut and a simulator restart
    // (unlike the staking keys), so a rebooted agent signs its register with the key it bound.
    const saved = agentDiskSchema.safeParse(disk);
    if (disk != null && !saved.success) log('host disk unreadable, booting blank', { instanceId });
    const memory = memoryHostKeyStore(saved.success ? saved.data.hostKeys : null);
    const keyStore: HostKeyStore = {
      load: () => memory.load(),
      save: async (keys) => {
        await memory.save(keys);
        diskChanged?.();
      },
    };
    const onError = (err: unknown): void =>
      log('agent failed', { instanceId, zoneId, error: String(err) });
    let agent: Agent | null = null;
    const boot = (hostFetch: typeof fetch): void => {
      agent = new Agent({
        userData: parsed.data,
        instanceId,
        driver,
        fetch: hostFetch,
        log: agentLog,
        stopBudgetMs: opts.stopBudgetMs,
        keyStore,
        instanceIdentity: identity ? (audience) => Promise.resolve(identity(audience)) : undefined,
        // A standby keeps a synced node running under a throwaway identity.
        standbyKeys: () => generateIdentity(),
      });
      agent.start();
    };
    boot(fetch);

    const host: SimHost = {
      stop: () => {
        driver.powerCut = false;
        settle(agent?.stop(), onError);
        agent = null;
        settle(driver.stop(), onError);
      },
      powerOff: () => {
        driver.powerCut = true;
        settle(agent?.stop(), onError);
        agent = null;
        settle(driver.stop(), onError);
      },
      powerOn: (ctx) => {
        driver.powerCut = false;
        // Snowline keeps the staking keys on tmpfs and only the agent starts avalanchego: after a
        // power cut the keys are gone and the node stays down until the control plane re-arms it.
        driver.disk = null;
        const restarted = Promise.resolve();
        restarted.then(() => boot(ctx.fetch), onError);
      },
      handle: (method, path, body) => driver.handle(method, path, body),
      disk: (): AgentDisk => ({ hostKeys: memory.keys }),
      report: async () => {
        const r = await driver.report();
        return { nodeId: r.nodeId, running: r.running, bootstrapped: r.bootstrapped };
      },
    };
    return host;
  };
}
