import { nodeIdFromCertPem } from '@snowline/avalanche';
import { performance } from 'node:perf_hooks';
import {
  generateHostKeys,
  hostPublicKeys,
  keyFingerprint,
  keysAad,
  memoryHostKeyStore,
  openFromControlPlane,
  signRequest,
  type HostKeys,
  type HostKeyStore,
} from './host-credential';
import { NodeDriver } from './node-driver';
import { ReleaseChecksumError, type ReleaseInstaller } from './release';
import { readStakingReport, stakingReportResponseSchema, type StakingNode } from './staking-report';
import {
  AGENT_PATHS,
  Assignment,
  fencedResponseSchema,
  instanceIdentityAudience,
  keysResponseSchema,
  leaseResponseSchema,
  legacyKeysResponseSchema,
  registerResponseSchema,
  stakingKeysSchema,
  tooEarlyResponseSchema,
  UserData,
  type NodeReport,
  type StakingKeysWire,
} from './protocol';

/** The cloud's signed instance identity document (ECS: `/document` and `/pkcs7?audience=…`). */
export interface InstanceIdentity {
  document: string;
  pkcs7: string;
}

export interface AgentTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface AgentOptions {
  userData: UserData;
  instanceId: string;
  driver: NodeDriver;
  fetch?: typeof fetch;
  /** Monotonic milliseconds (default performance.now): only differences are used, never wall time. */
  now?: () => number;
  log?: (msg: string, fields?: object) => void;
  timers?: AgentTimers;
  /** Per-request timeout (default 5 s, capped at the renew interval once known). */
  requestTimeoutMs?: number;
  /** Registration back-off: first delay and cap (default 1 s → 30 s, doubling, with jitter). */
  registerBackoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /**
   * Keys of a throwaway identity for a standby's node: a standby keeps a synced node running under
   * it, so that taking over a validator is a restart, not a sync from scratch.
   */
  standbyKeys?: () => Promise<import('@snowline/avalanche').StakingKeyMaterial>;
  /**
   * Puts the release UserData names (`avalanchego`) on the host, checked by its SHA-256. Until it
   * has, no node starts (no keys are fetched either); a checksum mismatch is final and reported.
   * Absent: the node runs whatever the host has (its version is what the driver reports).
   */
  installer?: ReleaseInstaller;
  /**
   * Self-fence this long before the lease ends on this agent's clock (SIGTERM), so that the node is
   * dead (SIGKILL) when the lease is: config.agent.stopBudgetSeconds. Default, as in libs/config:
   * a quarter of the TTL, at most 10 s. Never more than half of TTL − renew interval, whatever the
   * control plane's TTL turns out to be: one missed renewal must never stop a node.
   */
  stopBudgetMs?: number;
  /**
   * Protocol 2: where the host's own key pairs live (default: memory, i.e. lost with the process).
   * On a real host, fileHostKeyStore on the instance's disk, so a restarted agent keeps its identity.
   */
  keyStore?: HostKeyStore;
  /**
   * Protocol 2: the cloud's signed instance identity document for an audience (ECS: the metadata
   * service's `/latest/dynamic/instance-identity/pkcs7?audience=…`); null where the cloud has none.
   */
  instanceIdentity?: (audience: string) => Promise<InstanceIdentity | null>;
  /**
   * The node's P-chain and info APIs, for staking reports (staking-report.ts) every
   * `stakingReportSeconds` the control plane announces; absent: this agent reports no staking.
   */
  stakingNode?: StakingNode;
}

/** The stop budget for a TTL and renew interval the control plane announced (see stopBudgetMs). */
export function effectiveStopBudgetMs(
  leaseTtlMs: number,
  renewIntervalMs: number,
  configuredMs?: number,
): number {
  const wanted = configuredMs ?? Math.min(10_000, leaseTtlMs / 4);
  const slack = leaseTtlMs - renewIntervalMs;
  return Math.max(0, wanted < slack ? wanted : slack / 2);
}

export interface AgentState {
  registered: boolean;
  /** The generation whose identity the node runs or is about to run. */
  generation: number | null;
  /** The control plane fenced this host (or it fenced itself); the node stays stopped until a new assignment. */
  fenced: boolean;
  /** `now()` at the start of the last renewal that succeeded. */
  lastRenewalAt: number | null;
}

type Http = { status: number; body: unknown };

/**
 * The host agent: register, renew the lease, fetch keys once per generation, supervise the node and
 * stop it when fenced or when it cannot renew (self-fencing): SIGTERM a stop budget before the lease
 * ends on this agent's clock, SIGKILL at its end, so the node is dead when the lease is.
 */
export class Agent {
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly log: (msg: string, fields?: object) => void;
  private readonly timers: AgentTimers;
  private readonly random: () => number;
  private readonly backoff: { initialMs: number; maxMs: number };

  private running = false;
  private registered = false;
  private registerAttempts = 0;
  /** Known from UserData, or (a batch launch) from the control plane's answer to register. */
  private hostId: string | null;
  /** Protocol 2: this host's key pairs, loaded (or made) at the first registration attempt. */
  private hostKeys: HostKeys | null = null;
  private readonly keyStore: HostKeyStore;
  private renewIntervalMs = 10_000;
  private leaseTtlMs = 45_000;
  private generation: number | null = null;
  private nodeRunning = false;
  /** The running node is a standby's throwaway identity (generation stays null). */
  private throwaway = false;
  /** The release from UserData is on the host (or there is nothing to install). */
  private installed: boolean;
  private installing = false;
  private installAttempts = 0;
  private nextInstallAt = 0;
  /** Why the release cannot run here (a checksum mismatch): reported, never retried. */
  private installError: string | null = null;
  private pending: Assignment | null = null;
  private nextKeysAt = 0;
  private nextRenewAt = 0;
  private fenced = false;
  private lastRenewalAt: number | null = null;
  /** Generations whose keys were refused (409/410) or failed to start: never retried. */
  private readonly refused = new Set<number>();
  /** The highest generation the control plane gave this agent (−1: none). */
  private maxGeneration = -1;
  /** Fenced: promised never to run a generation ≤ this one (−1: no promise). */
  private releasedThrough = -1;
  /** The control plane recorded the stop acknowledgment up to this generation. */
  private ackedThrough = -1;
  /** What the node said at the last renewal (staking reports read only a running, synced node). */
  private lastNode: NodeReport | null = null;
  /** Staking reports: every this often (null: the control plane has no staking channel). */
  private stakingIntervalMs: number | null = null;
  private nextStakingAt = Infinity;
  private stakingInFlight = false;
  /** The NodeIDs the control plane asked this node to look up next. */
  private stakingLookup: string[] = [];

  private loopTimer: unknown = null;
  private fenceTimer: unknown = null;
  private driverOp: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AgentOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? (() => undefined);
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    this.random = opts.random ?? Math.random;
    this.backoff = opts.registerBackoff ?? { initialMs: 1_000, maxMs: 30_000 };
    this.keyStore = opts.keyStore ?? memoryHostKeyStore();
    this.hostId = opts.userData.hostId ?? null;
    this.installed = !opts.userData.avalanchego || !opts.installer;
  }

  /** The version installed from UserData's release; null when none was given or it is not in yet. */
  private get installedVersion(): string | null {
    return this.installed ? (this.opts.userData.avalanchego?.version ?? null) : null;
  }

  /** `version` for a register body: only when known (absent = unknown, as from an older agent). */
  private versionField(): { version?: string } {
    const v = this.installedVersion;
    return v ? { version: v } : {};
  }

  /** Fetch and check the release in the background: renewals go on while it downloads. */
  private maybeInstall(): void {
    const release = this.opts.userData.avalanchego;
    if (this.installed || this.installing || this.installError || !release) return;
    if (this.now() < this.nextInstallAt) return;
    this.installing = true;
    this.opts
      .installer!.install(release)
      .then(
        () => {
          this.installed = true;
          // No reschedule here (a round may be in flight): the next round starts what waited.
          this.log('avalanchego release installed', { version: release.version });
        },
        (err: unknown) => {
          if (err instanceof ReleaseChecksumError) {
            this.installError = err.message.slice(0, 500);
            this.log('avalanchego release refused', { error: this.installError });
            return;
          }
          const base = Math.min(
            this.backoff.maxMs,
            this.backoff.initialMs * 2 ** this.installAttempts++,
          );
          this.nextInstallAt = this.now() + base;
          this.log('avalanchego release download failed, retrying', {
            version: release.version,
            error: errText(err),
            retryInMs: base,
          });
        },
      )
      .finally(() => (this.installing = false));
  }

  private get protocol(): 1 | 2 {
    return this.opts.userData.snowline;
  }

  state(): AgentState {
    return {
      registered: this.registered,
      generation: this.generation,
      fenced: this.fenced,
      lastRenewalAt: this.lastRenewalAt,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Ends every timer and stops the node: a node without its agent could not fence itself. */
  async stop(): Promise<void> {
    this.running = false;
    this.clear('loopTimer');
    this.clear('fenceTimer');
    // No waiting for a round in flight (its request may hang until its timeout): it re-checks `running`
    // under the driver lock before starting anything.
    await this.stopNode('agent stopping');
  }

  private clear(which: 'loopTimer' | 'fenceTimer'): void {
    if (this[which] !== null) this.timers.clearTimeout(this[which]);
    this[which] = null;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.clear('loopTimer');
    this.loopTimer = this.timers.setTimeout(
      () => {
        this.loopTimer = null;
        void this.tick();
      },
      Math.max(0, delayMs),
    );
  }

  private async tick(): Promise<void> {
    try {
      this.maybeInstall();
      if (!this.registered) {
        const delay = await this.register();
        return this.schedule(delay);
      }
      if (this.now() >= this.nextRenewAt) await this.renew();
      if (this.running && this.pending && this.installed && this.now() >= this.nextKeysAt)
        await this.fetchKeysAndStart();
      // Not awaited: a slow node or control plane must never delay the next renewal.
      if (this.running && !this.stakingInFlight && this.now() >= this.nextStakingAt)
        void this.reportStaking();
    } catch (err) {
      // Never let one bad round kill the loop.
      this.log('agent round failed', { error: errText(err) });
    }
    // A report in flight wakes nobody: the round after it ends looks at nextStakingAt again.
    const wake = Math.min(
      this.pending && this.installed
        ? Math.min(this.nextRenewAt, this.nextKeysAt)
        : this.nextRenewAt,
      this.stakingInFlight ? Infinity : this.nextStakingAt,
    );
    this.schedule(wake - this.now());
  }

  /**
   * `auth`: 'token' sends the bootstrap token (protocol 1 always; protocol 2 only to register),
   * 'signed' signs the request with the host's key, 'none' sends neither (a reimaged host's register).
   */
  private async post(
    path: string,
    body: unknown,
    auth: 'token' | 'signed' | 'none' = this.protocol === 2 ? 'signed' : 'token',
  ): Promise<Http | null> {
    const timeoutMs = Math.min(this.opts.requestTimeoutMs ?? 5_000, this.renewIntervalMs);
    const deadline = this.now() + timeoutMs;
    const text = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth === 'token') headers.authorization = `Bearer ${this.opts.userData.bootstrapToken}`;
      if (auth === 'signed' && this.hostKeys) {
        // Signed afresh on a retry: its own timestamp, as any request.
        headers.authorization = signRequest(this.hostKeys, {
          method: 'POST',
          path,
          hostId: this.hostId!,
          body: text,
        });
      }
      try {
        const res = await this.fetchImpl(
          this.opts.userData.controlPlaneUrl.replace(/\/+$/, '') + path,
          {
            method: 'POST',
            headers,
            body: text,
            // A whole number of ms: AbortSignal.timeout throws on a fraction (the clock has them).
            signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - this.now()))),
          },
        );
        const answer = await res.text();
        let parsed: unknown = null;
        try {
          parsed = answer ? JSON.parse(answer) : null;
        } catch {
          parsed = null;
        }
        return { status: res.status, body: parsed };
      } catch (err) {
        // A connection the server (or a proxy) closed as it was reused: once more, on a new one.
        // Every agent call is safe to repeat (a renewal renews again; the lease is still counted
        // from the first attempt's start, the earlier and so the safer moment).
        if (attempt === 1 && connectionReset(err) && deadline - this.now() > 0) {
          this.log('control plane connection reset, retrying once', { path, error: errText(err) });
          continue;
        }
        this.log('control plane unreachable', { path, error: errText(err) });
        return null;
      }
    }
  }

  /** Returns the delay before the next round. */
  private async register(): Promise<number> {
    const res =
      this.protocol === 2
        ? await this.registerWithHostKey()
        : await this.post(AGENT_PATHS.register, {
            hostId: this.hostId,
            instanceId: this.opts.instanceId,
            ...this.versionField(),
          });
    const ok = res?.status === 200 ? registerResponseSchema.safeParse(res.body) : null;
    if (ok?.success && this.protocol === 2 && this.hostKeys!.boundHostId !== ok.data.hostId) {
      // A batch member learns which host it is from the answer; every later call names it.
      this.hostId = ok.data.hostId;
      this.hostKeys = {
        ...this.hostKeys!,
        boundHostId: ok.data.hostId,
        ...(this.opts.userData.batchId ? { boundBatchId: this.opts.userData.batchId } : {}),
      };
      await this.keyStore.save(this.hostKeys);
    }
    const hostId = this.hostId;
    if (ok?.success) {
      this.registered = true;
      this.registerAttempts = 0;
      this.leaseTtlMs = ok.data.leaseTtlSeconds * 1000;
      this.renewIntervalMs = ok.data.renewIntervalSeconds * 1000;
      this.nextRenewAt = this.now();
      if (ok.data.stakingReportSeconds && this.opts.stakingNode) {
        this.stakingIntervalMs = ok.data.stakingReportSeconds * 1000;
        // The first report soon: its answer says which NodeIDs to look up.
        this.nextStakingAt = this.now() + Math.min(this.stakingIntervalMs, this.renewIntervalMs);
      }
      this.log('registered', { hostId, leaseTtlSeconds: ok.data.leaseTtlSeconds });
      return 0;
    }
    // 425 says when to come back (a batch launch not recorded yet, a key still live): no back-off.
    const early = res?.status === 425 ? tooEarlyResponseSchema.safeParse(res.body) : null;
    if (early?.success) {
      const wait = Math.min(this.backoff.maxMs, Math.max(250, early.data.retryAfterMs));
      this.log('register too early, retrying', { retryInMs: wait });
      return wait;
    }
    const base = Math.min(
      this.backoff.maxMs,
      this.backoff.initialMs * 2 ** this.registerAttempts++,
    );
    const delay = Math.round(base / 2 + (this.random() * base) / 2);
    this.log('register failed, retrying', { status: res?.status ?? null, retryInMs: delay });
    return delay;
  }

  /**
   * Protocol 2. A key already bound to this host signs its register (an agent restart). Otherwise
   * the public keys go with the bootstrap token and, where the cloud has one, an identity document
   * naming the key: the token opens the first registration only; the document lets a reimaged
   * instance (its key lost with the disk) bind a new key once the old one has gone silent.
   */
  private async registerWithHostKey(): Promise<Http | null> {
    const { batchId } = this.opts.userData;
    let keys = this.hostKeys;
    if (!keys) {
      const stored = await this.keyStore.load();
      // Keys bound to another host (or batch) are not this instance's: a disk from elsewhere.
      const mine =
        !stored?.boundHostId ||
        (this.hostId ? stored.boundHostId === this.hostId : stored.boundBatchId === batchId);
      keys = stored && mine ? stored : generateHostKeys();
      if (keys !== stored) await this.keyStore.save(keys);
      this.hostKeys = keys;
    }
    if (keys.boundHostId) {
      this.hostId = keys.boundHostId;
      return this.post(
        AGENT_PATHS.register,
        { hostId: this.hostId, instanceId: this.opts.instanceId, ...this.versionField() },
        'signed',
      );
    }
    const base = {
      ...(this.hostId ? { hostId: this.hostId } : { batchId }),
      instanceId: this.opts.instanceId,
      ...this.versionField(),
    };
    const pub = hostPublicKeys(keys);
    let instanceIdentity: InstanceIdentity | null = null;
    try {
      instanceIdentity =
        (await this.opts.instanceIdentity?.(
          instanceIdentityAudience(this.hostId ?? batchId!, keyFingerprint(pub.signingKey)),
        )) ?? null;
    } catch (err) {
      this.log('instance identity document unavailable', { error: errText(err) });
    }
    return this.post(
      AGENT_PATHS.register,
      { ...base, ...pub, ...(instanceIdentity ? { instanceIdentity } : {}) },
      'token',
    );
  }

  private async renew(): Promise<void> {
    const startedAt = this.now();
    this.nextRenewAt = startedAt + this.renewIntervalMs;
    const node = await this.opts.driver.report();
    node.version = this.installedVersion ?? node.version ?? null;
    if (this.installError && !node.running) node.error = this.installError;
    this.lastNode = node;
    if (node.running && node.bootstrapped !== true && !this.throwaway) {
      // Report a bootstrapping node's progress sooner, so it counts as active as soon as it is.
      this.nextRenewAt = startedAt + Math.min(this.renewIntervalMs, 2_000);
    }
    const res = await this.post(AGENT_PATHS.lease, {
      hostId: this.hostId,
      generation: this.generation,
      node,
    });
    if (!this.running || !res) return;

    if (res.status === 409 && fencedResponseSchema.safeParse(res.body).success) {
      const reason = fencedResponseSchema.parse(res.body).reason;
      this.log('fenced by control plane, stopping node', { reason, generation: this.generation });
      this.fenced = true;
      // The promise holds from here: nothing up to the last generation given starts again.
      const through = Math.max(this.releasedThrough, this.maxGeneration);
      this.releasedThrough = through;
      const stopped = await this.stopNode('fenced');
      if (stopped && through >= 0 && this.ackedThrough < through)
        await this.acknowledgeStop(through);
      return;
    }
    if (res.status !== 200) {
      this.log('lease renewal refused', { status: res.status });
      return;
    }
    const lease = leaseResponseSchema.safeParse(res.body);
    if (!lease.success) {
      this.log('lease response did not validate', { error: lease.error.message.slice(0, 300) });
      return;
    }
    // Count from the request's start: the control plane's expiry is at least that late.
    this.lastRenewalAt = Math.max(this.lastRenewalAt ?? -Infinity, startedAt);
    this.leaseTtlMs = lease.data.leaseTtlSeconds * 1000;
    this.armSelfFence();

    const a = lease.data.role === 'assigned' ? lease.data.assignment : null;
    if (!a) {
      if (this.generation !== null) {
        this.log('no assignment any more, stopping node', { generation: this.generation });
        await this.stopNode('standby');
      }
      if (
        lease.data.role === 'standby' &&
        !this.nodeRunning &&
        this.installed &&
        this.opts.standbyKeys
      ) {
        await this.startThrowaway();
      }
      return;
    }
    if (this.throwaway) await this.stopNode('taking over an assignment');
    if (a.generation === this.generation || this.refused.has(a.generation)) return;
    if (a.generation <= this.releasedThrough) return; // fenced: promised never to
    this.maxGeneration = Math.max(this.maxGeneration, a.generation);
    if (this.generation !== null) {
      this.log('assignment moved, stopping current node first', {
        from: this.generation,
        to: a.generation,
      });
      await this.stopNode('reassigned');
    }
    this.pending = a;
    this.generation = a.generation;
    this.nextKeysAt = this.now();
  }

  /**
   * Tell the control plane the node has exited (the driver's stop resolved: SIGKILL and wait at worst)
   * and that nothing up to `through` runs here again, so a planned move need not wait out the lease.
   * Re-sent on each refused renewal until recorded; an old control plane (404) just waits the lease.
   */
  private async acknowledgeStop(through: number): Promise<void> {
    const res = await this.post(AGENT_PATHS.stopped, { hostId: this.hostId, generation: through });
    if (res && (res.status === 204 || res.status === 200)) {
      this.ackedThrough = Math.max(this.ackedThrough, through);
      this.log('stop acknowledged to the control plane', { generation: through });
    } else if (res) {
      this.log('stop acknowledgment not recorded', { status: res.status, generation: through });
    }
  }

  /**
   * One staking report (staking-report.ts): only from a running, synced node. A validator's own node
   * also reads its own NodeID and info.uptime. The answer names the NodeIDs to look up next time; a
   * new one is looked up at the next renewal instead of a whole report interval later.
   */
  private async reportStaking(): Promise<void> {
    const interval = this.stakingIntervalMs!;
    this.nextStakingAt = this.now() + interval;
    const node = this.lastNode;
    if (!node?.running || node.bootstrapped !== true || !node.nodeId) return;
    this.stakingInFlight = true;
    try {
      const own = this.generation !== null && this.nodeRunning && !this.throwaway;
      const report = await readStakingReport(this.opts.stakingNode!, {
        hostId: this.hostId!,
        generation: this.generation,
        nodeId: node.nodeId,
        ownNodeId: own ? node.nodeId : null,
        lookup: this.stakingLookup,
        l1s: node.trackedSubnets ?? [],
      });
      const res = await this.post(AGENT_PATHS.staking, report);
      if (!this.running || !res) return;
      const answer = res.status === 200 ? stakingReportResponseSchema.safeParse(res.body) : null;
      if (!answer?.success) {
        this.log('staking report refused', { status: res.status });
        return;
      }
      const asked = new Set(report.asked);
      this.stakingLookup = answer.data.lookup;
      this.stakingIntervalMs = answer.data.reportIntervalSeconds * 1000;
      this.nextStakingAt = this.now() + this.stakingIntervalMs;
      if (answer.data.lookup.some((id) => !asked.has(id)))
        this.nextStakingAt = Math.min(this.nextStakingAt, this.now() + this.renewIntervalMs);
    } catch (err) {
      this.log('staking report failed', { error: errText(err) });
    } finally {
      this.stakingInFlight = false;
    }
  }

  private async fetchKeysAndStart(): Promise<void> {
    const a = this.pending!;
    const res = await this.post(AGENT_PATHS.keys, {
      hostId: this.hostId,
      generation: a.generation,
    });
    if (!this.running || this.pending !== a) return;
    if (!res) {
      this.nextKeysAt = this.now() + Math.min(1_000, this.renewIntervalMs);
      return;
    }
    if (res.status === 425) {
      const early = tooEarlyResponseSchema.safeParse(res.body);
      const wait = early.success ? early.data.retryAfterMs : 1_000;
      this.log('keys not yet available, waiting', { generation: a.generation, retryAfterMs: wait });
      this.nextKeysAt = this.now() + wait;
      return;
    }
    if (res.status === 409 || res.status === 410) {
      this.log('keys refused, not starting', { generation: a.generation, status: res.status });
      return this.abandon(a);
    }
    const wire = res.status === 200 ? this.openKeys(res.body, a.generation) : null;
    if (!wire) {
      this.log('unexpected keys response', { status: res.status });
      this.nextKeysAt = this.now() + Math.min(1_000, this.renewIntervalMs);
      return;
    }
    const material = {
      stakerCrt: wire.stakerCrt,
      stakerKey: wire.stakerKey,
      signerKey: Buffer.from(wire.signerKey, 'base64'),
    };
    let nodeId: string;
    try {
      nodeId = nodeIdFromCertPem(material.stakerCrt);
    } catch {
      nodeId = '';
    }
    if (nodeId !== a.nodeId) {
      this.log('keys do not match the assignment NodeID, not starting', {
        expected: a.nodeId,
        generation: a.generation,
      });
      return this.abandon(a);
    }
    await this.serialDriver(async () => {
      // Re-check under the driver lock: a fence or a newer assignment may have landed meanwhile.
      if (!this.running || this.pending !== a || this.mustFence()) {
        this.log('not starting: lease no longer held', { generation: a.generation });
        return;
      }
      try {
        await this.opts.driver.start(material);
        this.nodeRunning = true;
        this.throwaway = false;
        this.nextRenewAt = Math.min(this.nextRenewAt, this.now() + 500);
        this.pending = null;
        this.fenced = false;
        this.log('node started', { generation: a.generation, nodeId });
      } catch (err) {
        this.log('node failed to start', { generation: a.generation, error: errText(err) });
        await this.opts.driver.stop(this.leaseLeftMs()).catch(() => undefined);
        this.refused.add(a.generation);
        this.pending = null;
        this.generation = null;
      }
    });
  }

  /** The staking keys of a 200 from `keys`, or null when it does not parse, open or match. */
  private openKeys(body: unknown, generation: number): StakingKeysWire | null {
    if (this.protocol === 1) {
      const clear = legacyKeysResponseSchema.safeParse(body);
      return clear.success && clear.data.generation === generation ? clear.data : null;
    }
    const sealed = keysResponseSchema.safeParse(body);
    if (!sealed.success || sealed.data.generation !== generation || !this.hostKeys) return null;
    try {
      const plain = openFromControlPlane(
        this.hostKeys,
        sealed.data.sealed,
        keysAad(this.hostId!, generation),
      );
      const parsed = stakingKeysSchema.safeParse(JSON.parse(plain.toString('utf8')));
      plain.fill(0);
      return parsed.success ? parsed.data : null;
    } catch (err) {
      this.log('sealed keys did not open', { generation, error: errText(err) });
      return null;
    }
  }

  private abandon(a: Assignment): void {
    this.refused.add(a.generation);
    if (this.pending === a) this.pending = null;
    if (this.generation === a.generation && !this.nodeRunning) this.generation = null;
  }

  private stopBudgetMs(): number {
    return effectiveStopBudgetMs(this.leaseTtlMs, this.renewIntervalMs, this.opts.stopBudgetMs);
  }

  /** The stop budget has begun: the node must be stopping, and nothing may start. */
  private mustFence(): boolean {
    return (
      this.lastRenewalAt === null ||
      this.now() - this.lastRenewalAt >= this.leaseTtlMs - this.stopBudgetMs()
    );
  }

  /** How long until the lease ends on this agent's clock (0 once it has); undefined before one. */
  private leaseLeftMs(): number | undefined {
    if (this.lastRenewalAt === null) return undefined;
    return Math.max(0, this.lastRenewalAt + this.leaseTtlMs - this.now());
  }

  private armSelfFence(): void {
    this.clear('fenceTimer');
    if (!this.running || this.lastRenewalAt === null) return;
    const due = this.lastRenewalAt + this.leaseTtlMs - this.stopBudgetMs() - this.now();
    this.fenceTimer = this.timers.setTimeout(
      () => {
        this.fenceTimer = null;
        void this.selfFenceIfExpired();
      },
      Math.max(0, due),
    );
  }

  private async selfFenceIfExpired(): Promise<void> {
    if (!this.running) return;
    if (!this.mustFence()) return this.armSelfFence();
    if (this.generation === null && !this.nodeRunning) return;
    this.log('no lease renewal for TTL − stop budget, stopping node (self-fence)', {
      generation: this.generation,
      sinceLastRenewalMs: this.lastRenewalAt === null ? null : this.now() - this.lastRenewalAt,
      leaseLeftMs: this.leaseLeftMs() ?? null,
    });
    this.fenced = true;
    await this.stopNode('self-fenced');
  }

  private async startThrowaway(): Promise<void> {
    const keys = await this.opts.standbyKeys!();
    await this.serialDriver(async () => {
      if (!this.running || this.nodeRunning || this.pending || this.generation !== null) return;
      try {
        await this.opts.driver.start(keys);
        this.nodeRunning = true;
        this.throwaway = true;
        this.log('standby node started under a throwaway identity');
      } catch (err) {
        this.log('standby node failed to start', { error: errText(err) });
      }
    });
  }

  /** True when the driver's stop resolved: the node process has exited. */
  private async stopNode(reason: string): Promise<boolean> {
    this.pending = null;
    this.generation = null;
    this.throwaway = false;
    let stopped = false;
    await this.serialDriver(async () => {
      try {
        // Whatever the reason, the node is dead (SIGKILL) by the time the lease ends.
        await this.opts.driver.stop(this.leaseLeftMs());
        if (this.nodeRunning) this.log('node stopped', { reason });
        stopped = true;
      } catch (err) {
        this.log('node stop failed', { reason, error: errText(err) });
      }
      this.nodeRunning = false;
    });
    return stopped;
  }

  private serialDriver(fn: () => Promise<void>): Promise<void> {
    const next = this.driverOp.then(fn, fn);
    this.driverOp = next.catch(() => undefined);
    return next;
  }
}

/** A request that failed because its connection was reset or closed under it (not a timeout). */
export function connectionReset(err: unknown): boolean {
  const c = (err as { cause?: { code?: unknown } } | null)?.cause;
  return (
    typeof c?.code === 'string' &&
    ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(c.code)
  );
}

export function errText(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; cause?: unknown } | null;
  // fetch() says only "fetch failed"; what failed (ECONNREFUSED, ECONNRESET, "other side closed")
  // is its cause, which is what an operator reading the agent's log needs.
  const c = e?.cause as { code?: unknown; message?: unknown } | null | undefined;
  const cause =
    c && typeof c === 'object'
      ? ` (${[c.code, c.message].filter((x) => typeof x === 'string' && x).join(': ')})`
      : '';
  return `${String(e?.name ?? 'Error')}: ${String(e?.message ?? err)}${cause === ' ()' ? '' : cause}`.slice(
    0,
    300,
  );
}
