import { randomBytes, randomUUID } from 'node:crypto';
import {
  SIM_CUSTOM_IMAGES,
  SIM_IMAGE,
  SIM_INSTANCE_TYPES,
  SIM_REGION,
  SIM_SECURITY_GROUP,
  SIM_ZONES,
  vswitchForZone,
} from './catalog';
import { generateIdentitySigner, signInstanceIdentity, type IdentitySigner } from '@snowline/cloud';
import { MinHeap } from './min-heap';
import { SimApiError, incorrectStatus, instanceNotFound } from './sim-error';

/** The account the simulator's instances belong to (their identity documents name it). */
export const SIM_ACCOUNT_ID = '1000000000000000';

export type SimStatus = 'Pending' | 'Starting' | 'Running' | 'Stopping' | 'Stopped';
export type SimHealth =
  | 'OK'
  | 'Impaired'
  | 'Warning'
  | 'Maintaining'
  | 'Initializing'
  | 'InsufficientData'
  | 'NotApplicable';

/** What a simulated host reports about its node: the ground truth behind `GET /_sim/nodes`. */
export interface HostReport {
  nodeId: string | null;
  running: boolean;
  bootstrapped: boolean | null;
  /** The AvalancheGo version the node runs; null/absent = not known to the host. */
  version?: string | null;
  /**
   * Its peers still accept it: false once its version missed a network upgrade's activation
   * (absent = not modelled by the host: counted as accepted).
   */
  validating?: boolean;
  /** The L1s (subnet ids) its node tracks (`--track-subnets`); absent = not modelled. */
  trackedSubnets?: string[];
}

export interface SimHost {
  stop(): void;
  handle(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  /** The driver's view of its node; may be async (the agent's NodeDriver.report() is). */
  report?(): HostReport | Promise<HostReport>;
  /**
   * The instance stops running (stop, reboot, power or hardware loss) / runs again. A host that
   * implements these keeps its disk and comes back running its old state, as a real host whose
   * avalanchego restarts on boot; one that does not is stopped, and a fresh one is made later.
   */
  powerOff?(): void;
  powerOn?(ctx: SimHostContext): void;
  /** What the host keeps on the instance's disk (JSON), saved with the region and handed back at boot. */
  disk?(): unknown;
}

export interface SimHostContext {
  instanceId: string;
  zoneId: string;
  /** Decoded UserData text ('' when none was given). */
  userData: string;
  /** Use this fetch to reach the control plane: it fails while the host's zone is partitioned. */
  fetch: typeof fetch;
  /**
   * The instance metadata service's signed identity (ECS `/latest/dynamic/instance-identity/`):
   * the document and its PKCS#7 signature for an audience, by the simulator's certificate.
   */
  identity?: (audience: string) => { document: string; pkcs7: string };
  /** The instance's disk as the last host left it (SimHost.disk), e.g. after a simulator restart. */
  disk?: unknown;
  /** Tell the simulator the disk changed, so that it saves the region soon. */
  diskChanged?: () => void;
}

/** Returns null when the instance runs nothing the simulator should host (e.g. foreign UserData). */
export type HostFactory = (ctx: SimHostContext) => SimHost | null | Promise<SimHost | null>;

export interface SimEvent {
  eventId: string;
  instanceId: string;
  type: string;
  cycleStatus: 'Scheduled' | 'Executing' | 'Executed' | 'Canceled' | 'Inquiring';
  publishTime: number;
  notBefore: number;
  finishTime?: number;
  reason: string;
}

export interface SimInstance {
  seq: number;
  instanceId: string;
  instanceName: string;
  regionId: string;
  zoneId: string;
  instanceType: string;
  imageId: string;
  vSwitchId: string;
  securityGroupId: string;
  privateIp: string;
  status: SimStatus;
  /** Bumped on every status change; stale timer entries and host attachments check it. */
  gen: number;
  createdAt: number;
  startedAt?: number;
  tags: Map<string, string>;
  userData: string;
  host: SimHost | null;
  /** A host whose power was cut; it resumes when the instance runs again. */
  dormantHost: SimHost | null;
  /** The disk of a host that is gone (restart, or a host without powerOff): the next one boots from it. */
  disk: unknown;
  /** Set by faults; while set, the instance has no power / is failed. */
  powerLost: boolean;
  failed: boolean;
  /** When the instance last became Stopped, and from what: a stopped-late fault reports that instead. */
  stoppedAt?: number;
  stoppedFrom?: SimStatus;
  events: SimEvent[];
  /** Status steps still to come, e.g. a reboot's Starting → Running. */
  plan: PlanStep[];
}

/** A status step still to come; `wallMs` steps (fault delays) are not multiplied by timeScale. */
export type PlanStep = { to: SimStatus; inMs: number; wallMs?: boolean };

/** A deleted instance whose guest is still up (stop-lag fault): ECS has forgotten it, the host has not. */
export interface LingeringHost {
  instanceId: string;
  zoneId: string;
  host: SimHost;
  diesAt: number;
}

export interface RunSpec {
  regionId: string;
  zoneId?: string;
  instanceType: string;
  imageId: string;
  vSwitchId: string;
  securityGroupId: string;
  amount: number;
  instanceName?: string;
  tags: [string, string][];
  userData: string;
}

export interface SimStateOptions {
  region?: string;
  zones?: string[];
  timeScale?: number;
  /** Base lifecycle delays in ms, before timeScale. */
  pendingMs?: number;
  startingMs?: number;
  stoppingMs?: number;
  maxInstances?: number;
  hostFactory?: HostFactory;
  now?: () => number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Whether outbound host traffic from a zone is cut (zone-partition fault). */
  isPartitioned?: (zoneId: string) => boolean;
  /** Whether a zone/type has no stock (no-stock fault). */
  isOutOfStock?: (zoneId: string, instanceType: string) => boolean;
  /** The error a launch from this image fails with now, if any (region-degraded fault). */
  imageUnavailable?: (imageId: string) => SimApiError | null;
  /** What Describe* should say instead of Stopped for a while (stopped-late fault). */
  lateStatus?: (inst: SimInstance) => SimStatus | null;
  /** How long (wall ms) a stop or delete of this instance leaves its host running (stop-lag fault). */
  stopLag?: (inst: SimInstance) => number | null;
  /** How hosts reach the control plane (default: the global fetch). */
  fetch?: typeof fetch;
  /** Called after every change worth saving (instances, statuses, disks): see persistence.ts. */
  onChange?: () => void;
}

/** What survives a simulator restart (see persistence.ts for the file and its schema). */
export interface SimSnapshot {
  version: 1;
  region: string;
  zones: string[];
  savedAt: number;
  seq: number;
  ipCounter: number;
  identitySigner: IdentitySigner | null;
  tokens: [string, { fingerprint: string; instanceIds: string[] }][];
  instances: SavedInstance[];
}

export type SavedInstance = Omit<
  SimInstance,
  'tags' | 'host' | 'dormantHost' | 'plan' | 'gen' | 'powerLost' | 'failed'
> & { tags: [string, string][] };

/** ClientTokens kept across a restart (the newest); ECS forgets them after a while too. */
const SAVED_TOKENS = 10_000;

interface Timer {
  at: number;
  instanceId: string;
  gen: number;
  to: SimStatus;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function randomId(prefix: string, len: number): string {
  const bytes = randomBytes(len);
  let out = prefix;
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

/** The simulated region: instances, their lifecycle on one timer heap, ClientTokens, hosts. */
export class SimState {
  readonly region: string;
  readonly zones: string[];
  readonly vswitches: Map<string, string>;
  readonly instances = new Map<string, SimInstance>();
  private readonly timers = new MinHeap<Timer>();
  private readonly tokens = new Map<string, { fingerprint: string; instanceIds: string[] }>();
  private readonly opts: Required<
    Pick<SimStateOptions, 'pendingMs' | 'startingMs' | 'stoppingMs' | 'maxInstances' | 'timeScale'>
  >;
  readonly now: () => number;
  private readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  private seq = 0;
  private ipCounter = 10;
  private readonly baseFetch: typeof fetch;
  /** One partition-aware fetch per zone, shared by that zone's hosts. */
  private readonly zoneFetch = new Map<string, typeof fetch>();
  hostFactory?: HostFactory;
  isPartitioned: (zoneId: string) => boolean;
  isOutOfStock: (zoneId: string, instanceType: string) => boolean;
  imageUnavailable: (imageId: string) => SimApiError | null;
  lateStatus: (inst: SimInstance) => SimStatus | null;
  stopLag: (inst: SimInstance) => number | null;
  /** Deleted instances whose hosts still run, by instance id. */
  readonly lingering = new Map<string, LingeringHost>();
  onChange: () => void;

  constructor(opts: SimStateOptions = {}) {
    this.region = opts.region ?? SIM_REGION;
    this.zones = opts.zones ?? SIM_ZONES;
    this.vswitches = new Map(this.zones.map((z) => [vswitchForZone(z), z]));
    this.opts = {
      timeScale: opts.timeScale ?? 1,
      pendingMs: opts.pendingMs ?? 300,
      startingMs: opts.startingMs ?? 700,
      stoppingMs: opts.stoppingMs ?? 500,
      maxInstances: opts.maxInstances ?? 20_000,
    };
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.hostFactory = opts.hostFactory;
    this.isPartitioned = opts.isPartitioned ?? (() => false);
    this.isOutOfStock = opts.isOutOfStock ?? (() => false);
    this.imageUnavailable = opts.imageUnavailable ?? (() => null);
    this.lateStatus = opts.lateStatus ?? (() => null);
    this.stopLag = opts.stopLag ?? (() => null);
    this.baseFetch = opts.fetch ?? fetch;
    this.onChange = opts.onChange ?? (() => undefined);
  }

  private signer: IdentitySigner | null = null;

  /** The certificate that signs instance identity documents (made at first use: RSA keygen). */
  get identitySigner(): IdentitySigner {
    if (!this.signer) {
      this.signer = generateIdentitySigner({ commonName: 'snowline-ecs-sim instance identity' });
      this.onChange();
    }
    return this.signer;
  }

  /** The metadata service's `/latest/dynamic/instance-identity/document`, as ECS lists its fields. */
  identityDocument(inst: SimInstance): Record<string, string> {
    return {
      'owner-account-id': SIM_ACCOUNT_ID,
      'instance-id': inst.instanceId,
      'region-id': this.region,
      'zone-id': inst.zoneId,
      'instance-type': inst.instanceType,
      'image-id': inst.imageId,
      'private-ipv4': inst.privateIp,
      'serial-number': inst.instanceId.replace(/^i-/, ''),
    };
  }

  /** `/pkcs7?audience=…` with the document it signs (detached, as ECS's). */
  signIdentity(inst: SimInstance, audience?: string): { document: string; pkcs7: string } {
    const signed = signInstanceIdentity(
      { document: this.identityDocument(inst), audience },
      this.identitySigner,
    );
    return { document: JSON.stringify(this.identityDocument(inst)), pkcs7: signed.pkcs7 };
  }

  private scaled(ms: number): number {
    return Math.max(0, Math.round(ms * this.opts.timeScale));
  }

  // ---- RunInstances ---------------------------------------------------------------------------

  run(spec: RunSpec, clientToken?: string): string[] {
    const fingerprint = JSON.stringify(spec);
    if (clientToken) {
      const prior = this.tokens.get(clientToken);
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          throw new SimApiError(
            400,
            'IdempotenceParamNotMatch',
            'Request uses a client token in a previous request but is not identical to that request.',
          );
        }
        return prior.instanceIds;
      }
    }
    this.validateRun(spec);
    const zoneId = spec.zoneId ?? this.vswitches.get(spec.vSwitchId)!;
    const ids: string[] = [];
    for (let i = 0; i < spec.amount; i++) {
      const inst = this.create(spec, zoneId);
      ids.push(inst.instanceId);
    }
    if (clientToken) this.tokens.set(clientToken, { fingerprint, instanceIds: ids });
    this.log('instances created', { zoneId, instanceIds: ids });
    this.onChange();
    return ids;
  }

  private validateRun(spec: RunSpec): void {
    if (spec.regionId !== this.region) {
      throw new SimApiError(
        404,
        'InvalidRegionId.NotFound',
        `The specified RegionId ${spec.regionId} does not exist.`,
      );
    }
    if (spec.zoneId !== undefined && !this.zones.includes(spec.zoneId)) {
      throw new SimApiError(
        404,
        'InvalidZoneId.NotFound',
        `The specified zone ${spec.zoneId} does not exist.`,
      );
    }
    const vswZone = this.vswitches.get(spec.vSwitchId);
    if (!vswZone) {
      throw new SimApiError(
        404,
        'InvalidVSwitchId.NotFound',
        `The specified VSwitchId ${spec.vSwitchId} does not exist.`,
      );
    }
    if (spec.zoneId !== undefined && spec.zoneId !== vswZone) {
      throw new SimApiError(
        400,
        'InvalidParameter.Mismatch',
        `The specified vSwitch ${spec.vSwitchId} is not in zone ${spec.zoneId}.`,
      );
    }
    if (spec.securityGroupId !== SIM_SECURITY_GROUP) {
      throw new SimApiError(
        404,
        'InvalidSecurityGroupId.NotFound',
        `The specified SecurityGroupId ${spec.securityGroupId} does not exist.`,
      );
    }
    if (spec.imageId !== SIM_IMAGE && !SIM_CUSTOM_IMAGES.includes(spec.imageId)) {
      throw new SimApiError(
        404,
        'InvalidImageId.NotFound',
        `The specified ImageId ${spec.imageId} does not exist.`,
      );
    }
    const imageError = this.imageUnavailable(spec.imageId);
    if (imageError) throw imageError;
    if (!SIM_INSTANCE_TYPES[spec.instanceType]) {
      throw new SimApiError(
        400,
        'InvalidInstanceType.ValueNotSupported',
        `The specified InstanceType ${spec.instanceType} does not exist or is not supported.`,
      );
    }
    if (this.isOutOfStock(vswZone, spec.instanceType)) {
      throw new SimApiError(
        403,
        'OperationDenied.NoStock',
        `The resource ${spec.instanceType} is out of stock in zone ${vswZone}.`,
      );
    }
    if (this.instances.size + spec.amount > this.opts.maxInstances) {
      throw new SimApiError(
        403,
        'QuotaExceed.ElasticQuota',
        `The number of instances would exceed the quota of ${this.opts.maxInstances}.`,
      );
    }
  }

  private create(spec: RunSpec, zoneId: string): SimInstance {
    const now = this.now();
    const instanceId = randomId('i-j6', 18);
    const n = this.ipCounter++;
    const inst: SimInstance = {
      seq: ++this.seq,
      instanceId,
      instanceName: spec.instanceName ?? instanceId,
      regionId: this.region,
      zoneId,
      instanceType: spec.instanceType,
      imageId: spec.imageId,
      vSwitchId: spec.vSwitchId,
      securityGroupId: spec.securityGroupId,
      privateIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      status: 'Pending',
      gen: 0,
      createdAt: now,
      tags: new Map(spec.tags),
      userData: spec.userData,
      host: null,
      dormantHost: null,
      disk: null,
      powerLost: false,
      failed: false,
      events: [],
      plan: [{ to: 'Running', inMs: this.opts.startingMs }],
    };
    this.instances.set(instanceId, inst);
    this.schedule(inst, 'Starting', this.opts.pendingMs);
    return inst;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  private schedule(
    inst: SimInstance,
    to: SimStatus,
    baseMs: number,
    from = this.now(),
    wallMs = false,
  ): void {
    this.timers.push({
      at: from + (wallMs ? baseMs : this.scaled(baseMs)),
      instanceId: inst.instanceId,
      gen: inst.gen,
      to,
    });
  }

  /** Moves an instance to a new status now, cancelling any pending steps, then plans the rest. */
  private transition(
    inst: SimInstance,
    to: SimStatus,
    plan: PlanStep[] = [],
    at = this.now(),
    /** The guest outlives the API's word (stop-lag): the host goes when a later step leaves Running. */
    keepHost = false,
  ): void {
    const from = inst.status;
    inst.gen++;
    inst.status = to;
    inst.plan = plan;
    if (to === 'Stopped' && from !== 'Stopped') {
      inst.stoppedAt = at;
      inst.stoppedFrom = from;
    }
    // Not only from Running: a stop-lagged Stopping instance still has its host.
    if (to !== 'Running' && !keepHost) this.detachHost(inst);
    if (to === 'Running' && from !== 'Running') {
      inst.startedAt = this.now();
      this.attachHost(inst);
    }
    const next = inst.plan.shift();
    // Counted from when this step was due, so a late tick does not stretch the lifecycle.
    if (next) this.schedule(inst, next.to, next.inMs, at, next.wallMs);
    this.onChange();
  }

  /** Applies every status change that is due. The server calls it from one interval timer. */
  tick(now = this.now()): number {
    let applied = 0;
    for (;;) {
      const t = this.timers.peek();
      if (!t || t.at > now) break;
      this.timers.pop();
      const inst = this.instances.get(t.instanceId);
      if (!inst || inst.gen !== t.gen) continue;
      this.transition(inst, t.to, inst.plan, t.at);
      applied++;
    }
    for (const l of this.lingering.values()) {
      if (l.diesAt > now) continue;
      this.lingering.delete(l.instanceId);
      safeStop(l.host);
      this.log('lingering host died', { instanceId: l.instanceId });
    }
    return applied;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  private attachHost(inst: SimInstance): void {
    if (inst.powerLost || inst.failed) return;
    const gen = inst.gen;
    const ctx: SimHostContext = {
      instanceId: inst.instanceId,
      zoneId: inst.zoneId,
      userData: inst.userData,
      fetch: this.hostFetch(inst.zoneId),
      identity: (audience) => this.signIdentity(inst, audience),
      disk: inst.disk,
      diskChanged: () => this.onChange(),
    };
    const dormant = inst.dormantHost;
    if (dormant) {
      inst.dormantHost = null;
      try {
        dormant.powerOn?.(ctx);
        inst.host = dormant;
      } catch (err) {
        this.log('host power-on failed', { instanceId: inst.instanceId, error: String(err) });
        safeStop(dormant);
      }
      return;
    }
    if (!this.hostFactory) return;
    let result: SimHost | null | Promise<SimHost | null>;
    try {
      result = this.hostFactory(ctx);
    } catch (err) {
      this.log('host factory failed', { instanceId: inst.instanceId, error: String(err) });
      return;
    }
    const adopt = (host: SimHost | null): void => {
      if (!host) return;
      // The instance may have been stopped or deleted while the host was starting.
      if (this.instances.get(inst.instanceId) !== inst || inst.gen !== gen) {
        safeStop(host);
        return;
      }
      inst.host = host;
    };
    if (result instanceof Promise) {
      result.then(adopt, (err: unknown) =>
        this.log('host factory failed', { instanceId: inst.instanceId, error: String(err) }),
      );
    } else adopt(result);
  }

  /** The instance stops running (stop, reboot, power or hardware loss): its disk survives. */
  private detachHost(inst: SimInstance): void {
    const host = inst.host;
    inst.host = null;
    if (!host) return;
    if (host.disk) inst.disk = host.disk();
    if (!host.powerOff) {
      safeStop(host);
      return;
    }
    try {
      host.powerOff();
      inst.dormantHost = host;
    } catch (err) {
      this.log('host power-off failed', { instanceId: inst.instanceId, error: String(err) });
      safeStop(host);
    }
  }

  /** The instance is deleted: host and disk are gone. */
  private destroyHosts(inst: SimInstance): void {
    const host = inst.host;
    const dormant = inst.dormantHost;
    inst.host = null;
    inst.dormantHost = null;
    if (host) safeStop(host);
    if (dormant) safeStop(dormant);
  }

  /** During a zone power loss the regional API cannot act on that zone's instances. */
  private ensureReachable(inst: SimInstance): void {
    if (inst.powerLost) {
      throw new SimApiError(
        503,
        'ServiceUnavailable',
        `The request has failed due to a temporary failure of the server (zone ${inst.zoneId} is unavailable).`,
      );
    }
  }

  private hostFetch(zoneId: string): typeof fetch {
    let f = this.zoneFetch.get(zoneId);
    if (!f) {
      f = this.partitionAwareFetch(zoneId);
      this.zoneFetch.set(zoneId, f);
    }
    return f;
  }

  private partitionAwareFetch(zoneId: string): typeof fetch {
    const base = this.baseFetch;
    return (input, init) => {
      if (this.isPartitioned(zoneId)) {
        return Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error(`connect ETIMEDOUT (zone ${zoneId} is partitioned)`), {
              code: 'ETIMEDOUT',
            }),
          }),
        );
      }
      return base(input, init);
    };
  }

  // ---- lookups ----------------------------------------------------------------------------------

  get(instanceId: string): SimInstance {
    const inst = this.instances.get(instanceId);
    if (!inst) throw instanceNotFound(instanceId);
    return inst;
  }

  /** The status Describe* answers with: the real one unless a stopped-late fault holds it back. */
  reportedStatus(inst: SimInstance): SimStatus {
    if (inst.status !== 'Stopped') return inst.status;
    return this.lateStatus(inst) ?? inst.status;
  }

  health(inst: SimInstance, status: SimStatus = inst.status): SimHealth {
    if (inst.powerLost || inst.failed) return 'Impaired';
    switch (status) {
      case 'Running':
        return 'OK';
      case 'Pending':
      case 'Starting':
        return 'Initializing';
      default:
        return 'NotApplicable';
    }
  }

  // ---- delete / stop / start / reboot -----------------------------------------------------------

  /** Validates every id first, so a batch either deletes all or none (as ECS does). */
  delete(instanceIds: string[], force: boolean): void {
    const targets = instanceIds.map((id) => this.get(id));
    for (const inst of targets) {
      this.ensureReachable(inst);
      if (inst.status === 'Pending') throw incorrectStatus(inst.instanceId, inst.status, true);
      if (!force && inst.status !== 'Stopped') throw incorrectStatus(inst.instanceId, inst.status);
    }
    for (const inst of targets) {
      inst.gen++;
      const lag = inst.host ? this.stopLag(inst) : null;
      if (lag !== null && inst.host) {
        this.lingering.set(inst.instanceId, {
          instanceId: inst.instanceId,
          zoneId: inst.zoneId,
          host: inst.host,
          diesAt: this.now() + lag,
        });
        inst.host = null;
      }
      this.destroyHosts(inst);
      this.instances.delete(inst.instanceId);
    }
    if (targets.length) this.log('instances deleted', { instanceIds });
    this.onChange();
  }

  stop(instanceId: string): { previous: SimStatus; current: SimStatus } {
    const inst = this.get(instanceId);
    this.ensureReachable(inst);
    const previous = inst.status;
    if (previous === 'Pending' || previous === 'Starting') {
      throw incorrectStatus(instanceId, previous, true);
    }
    if (previous === 'Stopped' || previous === 'Stopping')
      throw incorrectStatus(instanceId, previous);
    const lag = this.stopLag(inst);
    if (lag === null) {
      this.transition(inst, 'Stopping', [{ to: 'Stopped', inMs: this.opts.stoppingMs }]);
    } else {
      // A lag shorter than a normal stop would make the stop faster than without the fault.
      const inMs = Math.max(lag, this.scaled(this.opts.stoppingMs));
      this.transition(inst, 'Stopping', [{ to: 'Stopped', inMs, wallMs: true }], this.now(), true);
    }
    return { previous, current: inst.status };
  }

  start(instanceId: string): { previous: SimStatus; current: SimStatus } {
    const inst = this.get(instanceId);
    this.ensureReachable(inst);
    const previous = inst.status;
    if (previous !== 'Stopped') throw incorrectStatus(instanceId, previous);
    inst.failed = false;
    this.transition(inst, 'Starting', [{ to: 'Running', inMs: this.opts.startingMs }]);
    return { previous, current: inst.status };
  }

  reboot(instanceId: string): void {
    const inst = this.get(instanceId);
    this.ensureReachable(inst);
    if (inst.status !== 'Running') throw incorrectStatus(instanceId, inst.status);
    inst.failed = false;
    this.transition(inst, 'Stopping', [
      { to: 'Starting', inMs: this.opts.stoppingMs },
      { to: 'Running', inMs: this.opts.startingMs },
    ]);
  }

  // ---- fault effects ----------------------------------------------------------------------------

  private addEvent(
    inst: SimInstance,
    type: string,
    cycleStatus: SimEvent['cycleStatus'],
    reason: string,
  ): void {
    const now = this.now();
    inst.events.push({
      eventId: randomId('e-j6', 18),
      instanceId: inst.instanceId,
      type,
      cycleStatus,
      publishTime: now,
      notBefore: now,
      reason,
    });
  }

  private closeEvents(inst: SimInstance): void {
    const now = this.now();
    for (const e of inst.events) {
      if (
        e.cycleStatus === 'Scheduled' ||
        e.cycleStatus === 'Executing' ||
        e.cycleStatus === 'Inquiring'
      ) {
        e.cycleStatus = 'Executed';
        e.finishTime = now;
      }
    }
  }

  /** The zone loses power: every live instance stops at once, its host dies, health is Impaired. */
  powerOff(zoneId: string): number {
    let n = 0;
    for (const inst of this.instances.values()) {
      if (inst.zoneId !== zoneId || inst.powerLost) continue;
      inst.powerLost = true;
      if (inst.status !== 'Stopped') this.transition(inst, 'Stopped');
      this.addEvent(inst, 'SystemFailure.Reboot', 'Executing', 'Zone power failure');
      n++;
    }
    this.killLingering((l) => l.zoneId === zoneId);
    return n;
  }

  /** Power returns: the instances that lost it boot again (fresh hosts, as after a real reboot). */
  powerOn(zoneId: string): number {
    let n = 0;
    for (const inst of this.instances.values()) {
      if (inst.zoneId !== zoneId || !inst.powerLost) continue;
      inst.powerLost = false;
      this.closeEvents(inst);
      this.transition(inst, 'Starting', [{ to: 'Running', inMs: this.opts.startingMs }]);
      n++;
    }
    return n;
  }

  /** Hardware failure under one instance: its host dies, ECS still says Running but Impaired. */
  fail(instanceId: string): void {
    const inst = this.get(instanceId);
    if (inst.failed) return;
    inst.failed = true;
    this.detachHost(inst);
    this.addEvent(inst, 'SystemFailure.Reboot', 'Scheduled', 'Underlying hardware failure');
    this.onChange();
  }

  /** The failed hardware is repaired: the instance reboots onto healthy hardware. */
  repair(instanceId: string): void {
    const inst = this.instances.get(instanceId);
    if (!inst || !inst.failed) return;
    inst.failed = false;
    this.closeEvents(inst);
    if (inst.status === 'Running') {
      this.transition(inst, 'Starting', [{ to: 'Running', inMs: this.opts.startingMs }]);
    }
    this.onChange();
  }

  /**
   * The region loses instances (instances-vanish fault): they are gone from every API at once, with
   * their hosts and disks, as if deleted behind the control plane's back. Returns their ids.
   */
  vanish(pred: (inst: SimInstance) => boolean): string[] {
    const gone: string[] = [];
    for (const inst of [...this.instances.values()]) {
      if (!pred(inst)) continue;
      inst.gen++;
      this.destroyHosts(inst);
      this.instances.delete(inst.instanceId);
      gone.push(inst.instanceId);
    }
    if (gone.length) {
      this.log('instances vanished', { instanceIds: gone });
      this.onChange();
    }
    return gone;
  }

  /** Stops every host (used on close). */
  stopAllHosts(): void {
    for (const inst of this.instances.values()) this.destroyHosts(inst);
    this.killLingering(() => true);
  }

  private killLingering(pred: (l: LingeringHost) => boolean): void {
    for (const l of [...this.lingering.values()]) {
      if (!pred(l)) continue;
      this.lingering.delete(l.instanceId);
      safeStop(l.host);
    }
  }

  // ---- restart ------------------------------------------------------------------------------------

  /** The region as a restart should find it: instances, statuses, tags, disks, the identity signer. */
  snapshot(): SimSnapshot {
    const instances: SavedInstance[] = [];
    for (const inst of this.instances.values()) {
      const live = inst.host ?? inst.dormantHost;
      const {
        tags,
        host: _host,
        dormantHost: _dormant,
        plan: _plan,
        gen: _gen,
        powerLost: _powerLost,
        failed: _failed,
        ...rest
      } = inst;
      instances.push({
        ...rest,
        tags: [...tags],
        events: inst.events.map((e) => ({ ...e })),
        disk: live?.disk ? live.disk() : inst.disk,
      });
    }
    return {
      version: 1,
      region: this.region,
      zones: [...this.zones],
      savedAt: this.now(),
      seq: this.seq,
      ipCounter: this.ipCounter,
      identitySigner: this.signer,
      tokens: [...this.tokens].slice(-SAVED_TOKENS),
      instances,
    };
  }

  /**
   * Loads a snapshot into an empty region. Running instances boot their hosts again from their disks,
   * as after a host reboot; one caught mid-change finishes it. Faults do not survive a restart, so
   * instances a fault held down (power loss, hardware failure) come back as when the fault ends.
   */
  restore(snap: SimSnapshot): void {
    if (this.instances.size) throw new Error('restore needs an empty region');
    this.seq = snap.seq;
    this.ipCounter = snap.ipCounter;
    this.signer = snap.identitySigner;
    for (const [token, entry] of snap.tokens) this.tokens.set(token, entry);
    const rebooting: SimInstance[] = [];
    for (const saved of [...snap.instances].sort((a, b) => a.seq - b.seq)) {
      const inst: SimInstance = {
        ...saved,
        tags: new Map(saved.tags),
        host: null,
        dormantHost: null,
        powerLost: false,
        failed: false,
        gen: 0,
        plan: [],
      };
      this.instances.set(inst.instanceId, inst);
      const held = inst.events.some(
        (e) => e.cycleStatus === 'Scheduled' || e.cycleStatus === 'Executing',
      );
      if (held) this.closeEvents(inst);
      if (inst.status === 'Running' && !held) this.attachHost(inst);
      else if (inst.status === 'Stopping') this.transition(inst, 'Stopped');
      else if (inst.status !== 'Stopped' || held) rebooting.push(inst);
    }
    for (const inst of rebooting)
      this.transition(inst, 'Starting', [{ to: 'Running', inMs: this.opts.startingMs }]);
    this.log('region restored', {
      instances: this.instances.size,
      savedAt: new Date(snap.savedAt).toISOString(),
    });
  }

  newRequestId(): string {
    return randomUUID().toUpperCase();
  }
}

function safeStop(host: SimHost): void {
  try {
    host.stop();
  } catch {
    // A host that fails to stop is gone anyway.
  }
}
