import { z } from 'zod';
import {
  Agent,
  hostKeysSchema,
  memoryHostKeyStore,
  ReleaseChecksumError,
  ReleaseInstaller,
  sha256Hex,
  SimulatedNodeDriver,
  trackedSubnetsOf,
  userDataSchema,
  type HostKeyStore,
  type ReleaseSpec,
} from '@snowline/agent';
import {
  AvalancheNodeClient,
  generateIdentity,
  type StakingKeyMaterial,
} from '@snowline/avalanche';
import { missedActivation, type NetworkUpgrade } from '@snowline/domain';
import { RELEASE_PATH_RE, simulatedRelease } from './releases';
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

/**
 * A simulated host's installer: it "downloads" from the simulator itself (no internet here: another
 * URL fails as an unreachable one would, and is retried) and checks the SHA-256 the worker pinned,
 * exactly as the real agent does; on success the host's node runs that version.
 */
export class SimReleaseInstaller extends ReleaseInstaller {
  constructor(private readonly installed: (version: string) => void) {
    super();
  }

  async install(release: ReleaseSpec): Promise<void> {
    const path = URL.canParse(release.url) ? new URL(release.url).pathname : '';
    const m = RELEASE_PATH_RE.exec(path);
    if (!m) throw new Error(`GET ${release.url}: unreachable from the simulator`);
    const bytes = simulatedRelease(m[1]!);
    const got = sha256Hex(bytes);
    if (got !== release.sha256)
      throw new ReleaseChecksumError(
        `avalanchego ${release.version}: ${release.url} has SHA-256 ${got}, not the pinned ${release.sha256}; not running it`,
      );
    if (m[1] !== release.version)
      throw new ReleaseChecksumError(
        `avalanchego ${release.version}: ${release.url} is the release of ${m[1]}; not running it`,
      );
    this.installed(release.version);
  }
}

export interface AgentHostOptions {
  bootstrapMs: number;
  /** The agents' stop budget (config.agent.stopBudgetSeconds); default: the agent's own. */
  stopBudgetMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Network-upgrade activations (config.avalanchego.calendar): a node whose version one of them left
   * behind stops validating at its activation, as a real AvalancheGo does.
   */
  calendar?: readonly NetworkUpgrade[];
  /** Versions whose nodes start but never bootstrap (a bad build: SIM_BROKEN_RELEASES). */
  brokenReleases?: readonly string[];
  /** Wall clock for the calendar (default Date.now, the control plane's clock too). */
  now?: () => number;
  /** How the agent on an instance reaches its own node's HTTP API; absent: it reports no staking. */
  nodeFetch?: (instanceId: string) => typeof fetch;
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

    const release = parsed.data.avalanchego;
    const calendar = opts.calendar ?? [];
    const now = opts.now ?? Date.now;
    const broken = new Set(opts.brokenReleases ?? []);
    // A bad build runs a standby's throwaway node fine and breaks with a validator's staking keys
    // (as a release with a broken signer would): its standbys sync, the validator moved onto one
    // never comes up, and the rollout's move rolls back.
    const throwaway = new Set<string>();
    const driver = new DiskBackedDriver({
      bootstrapMs: opts.bootstrapMs,
      // As the agent would start avalanchego: --track-subnets from the host's UserData.
      trackSubnets: trackedSubnetsOf(parsed.data),
      neverBootstraps: (version, nodeId) =>
        version !== null && broken.has(version) && !throwaway.has(nodeId),
      // Peers drop a node below an activation's minimum (avalanchego network/peer/peer.go).
      outdated: release
        ? (version) => {
            const missed = missedActivation(calendar, release.network, version, now());
            return missed
              ? `${missed.name} activated on ${missed.network} at ${new Date(missed.activatesAt).toISOString()} and needs ${missed.minVersion}; this node runs ${version}: its peers disconnected it and it no longer validates`
              : null;
          }
        : undefined,
    });
    // A UserData release is fetched from the simulator and checked by its SHA-256, as on a real host.
    const installer = release
      ? new SimReleaseInstaller((version) => driver.setRelease(version))
      : undefined;
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
        standbyKeys: async () => {
          const keys = await generateIdentity();
          throwaway.add(keys.nodeId);
          return keys;
        },
        installer,
        stakingNode: opts.nodeFetch
          ? new AvalancheNodeClient('http://127.0.0.1:9650', { fetch: opts.nodeFetch(instanceId) })
          : undefined,
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
        return {
          nodeId: r.nodeId,
          running: r.running,
          bootstrapped: r.bootstrapped,
          version: r.version ?? null,
          validating: r.running && driver.validating(),
          trackedSubnets: driver.trackedSubnets(),
        };
      },
    };
    return host;
  };
}
