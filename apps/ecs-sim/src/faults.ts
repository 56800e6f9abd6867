import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SimApiError } from './sim-error';
import type { SimState } from './state';

/**
 * The fault API (`POST/GET/DELETE /_sim/faults`), modelled on LocalStack's chaos API: faults per
 * zone, instance or API action, with a probability, a status code and a latency.
 */
/** Which instances a fault hits: a zone's, the listed ones, or both. At least one must be given. */
const targetFields = {
  zone: z.string().min(1).optional(),
  instanceIds: z.array(z.string().min(1)).min(1).max(1000).optional(),
};
const delayMs = z.number().int().min(1).max(3_600_000);

export const faultSpecSchema = z.discriminatedUnion('kind', [
  /** Every instance in the zone loses power: Stopped + Impaired, hosts die; launches there fail NoStock. */
  z.object({ kind: z.literal('zone-power-loss'), zone: z.string().min(1) }),
  /** Hosts keep running but cannot reach the control plane, nor be reached via /_nodes. */
  z.object({ kind: z.literal('zone-partition'), zone: z.string().min(1) }),
  /** Hardware failure under instances: host dies, ECS says Running + Impaired + SystemFailure.Reboot. */
  z.object({
    kind: z.literal('instance-failure'),
    instanceIds: z.array(z.string().min(1)).min(1).max(1000),
  }),
  /** RunInstances fails with OperationDenied.NoStock; DescribeAvailableResource says WithoutStock. */
  z.object({
    kind: z.literal('no-stock'),
    zone: z.string().min(1).optional(),
    instanceType: z.string().min(1).optional(),
  }),
  /** ECS API calls fail (or only slow down, without `code`) with a probability. */
  z.object({
    kind: z.literal('api-error'),
    action: z.string().min(1).default('*'),
    code: z.string().min(1).optional(),
    status: z.number().int().min(400).max(599).optional(),
    message: z.string().optional(),
    probability: z.number().min(0).max(1).default(1),
    latencyMs: z.number().int().min(0).max(120_000).default(0),
    /** Stop after this many injected failures (the fault then removes itself). */
    count: z.number().int().positive().optional(),
    retryAfterMs: z.number().int().min(0).optional(),
    /** `after`: the action takes effect, then its answer is the error (a response lost in flight). */
    when: z.enum(['before', 'after']).default('before'),
  }),
  /**
   * The regional control plane is degraded, as ECS in cn-hongkong on 2022-12-18 (~20 % of API
   * calls succeeded; launches from custom images failed outright).
   */
  z.object({
    kind: z.literal('region-degraded'),
    /** Fraction of calls that succeed. */
    availability: z.number().min(0).max(1).default(0.2),
    /** Actions affected; all when omitted. */
    actions: z.array(z.string().min(1)).min(1).optional(),
    code: z.string().min(1).default('ServiceUnavailable'),
    status: z.number().int().min(400).max(599).optional(),
    message: z.string().optional(),
    /** Added to every affected call, failed or not. */
    latencyMs: z.number().int().min(0).max(120_000).default(0),
    /**
     * What RunInstances from a custom image (`m-…`) answers, whatever `availability` and `actions`
     * say; null lets them through. The outage report names no code: an image service that cannot
     * read the image says it does not exist.
     */
    customImageCode: z.string().min(1).nullable().default('InvalidImageId.NotFound'),
    /** Seeds this fault's own PRNG, so a run fails the same calls every time. */
    seed: z.number().int().optional(),
  }),
  /**
   * Describe* keep answering Running (or Stopping) for `delayMs` of wall time after an instance
   * really became Stopped, as a lagging status cache would; mutations and /_sim/nodes see the truth.
   */
  z.object({
    kind: z.literal('stopped-late'),
    ...targetFields,
    delayMs,
    /** Default: the status it had before it stopped (Stopping after a stop, Running after power loss). */
    reportAs: z.enum(['Running', 'Stopping']).optional(),
  }),
  /**
   * StopInstance(s) (ForceStop or not) and DeleteInstance(s) answer success at once, but the guest
   * runs on for `delayMs` of wall time: a delete call is not a confirmed stop.
   */
  z.object({ kind: z.literal('stop-lag'), ...targetFields, delayMs }),
  /**
   * The region loses instances: they vanish from every API (InvalidInstanceId.NotFound), hosts and
   * disks with them, as if deleted behind the control plane's back. A zone's, the listed ones, or
   * every instance when neither is given; `hits` counts them. Ending the fault brings none back.
   */
  z.object({ kind: z.literal('instances-vanish'), ...targetFields }),
]);
export type FaultSpec = z.infer<typeof faultSpecSchema>;
export type FaultSpecInput = z.input<typeof faultSpecSchema>;
export type Fault = FaultSpec & { id: string; createdAt: string; hits: number };

/** mulberry32: small, fast and good enough to pick which calls fail. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Default HTTP status for well-known codes, so a fault only needs `code`. */
const DEFAULT_STATUS: Record<string, number> = {
  'OperationDenied.NoStock': 403,
  'Zone.NotOnSale': 403,
  'InvalidInstanceType.ZoneNotSupported': 400,
  IncorrectInstanceStatus: 403,
  'IncorrectInstanceStatus.Initializing': 403,
  'InvalidZoneId.NotFound': 404,
  'InvalidVSwitchId.NotFound': 404,
  'InvalidImageId.NotFound': 404,
  'InvalidInstanceId.NotFound': 404,
  'Throttling.Resource': 429,
  'Throttling.User': 400,
  Throttling: 400,
  InternalError: 500,
  ServiceUnavailable: 503,
  IdempotenceParamNotMatch: 400,
  IdempotentParameterMismatch: 400,
};

export function defaultStatusFor(code: string): number {
  if (DEFAULT_STATUS[code]) return DEFAULT_STATUS[code];
  if (code.startsWith('QuotaExceed')) return 403;
  if (code.startsWith('Throttling')) return 400;
  return 400;
}

function targets(
  f: { zone?: string; instanceIds?: string[] },
  inst: { zoneId: string; instanceId: string },
): boolean {
  return f.zone === inst.zoneId || (f.instanceIds?.includes(inst.instanceId) ?? false);
}

export class FaultRegistry {
  private readonly faults = new Map<string, Fault>();
  /** Per-fault PRNGs for faults that carry a `seed`. */
  private readonly rngs = new Map<string, () => number>();
  /** When each fault began, on the state's clock: a stopped-late fault hides only later stops. */
  private readonly since = new Map<string, number>();

  constructor(
    private readonly state: SimState,
    private readonly random: () => number = Math.random,
  ) {
    state.isPartitioned = (zone) => this.has((f) => f.kind === 'zone-partition' && f.zone === zone);
    state.isOutOfStock = (zone, type) =>
      this.has(
        (f) =>
          (f.kind === 'zone-power-loss' && f.zone === zone) ||
          (f.kind === 'no-stock' &&
            (f.zone === undefined || f.zone === zone) &&
            (f.instanceType === undefined || f.instanceType === type)),
      );
    state.lateStatus = (inst) => {
      const at = inst.stoppedAt;
      if (at === undefined) return null;
      const now = state.now();
      for (const f of this.faults.values()) {
        if (f.kind !== 'stopped-late' || !targets(f, inst)) continue;
        if (at < (this.since.get(f.id) ?? Infinity) || now - at >= f.delayMs) continue;
        f.hits++;
        return f.reportAs ?? (inst.stoppedFrom === 'Stopping' ? 'Stopping' : 'Running');
      }
      return null;
    };
    state.stopLag = (inst) => {
      for (const f of this.faults.values()) {
        if (f.kind !== 'stop-lag' || !targets(f, inst)) continue;
        f.hits++;
        return f.delayMs;
      }
      return null;
    };
    state.imageUnavailable = (imageId) => {
      if (!imageId.startsWith('m-')) return null;
      for (const f of this.faults.values()) {
        if (f.kind !== 'region-degraded' || f.customImageCode === null) continue;
        f.hits++;
        return new SimApiError(
          defaultStatusFor(f.customImageCode),
          f.customImageCode,
          `The specified ImageId ${imageId} does not exist.`,
        );
      }
      return null;
    };
  }

  private has(pred: (f: Fault) => boolean): boolean {
    for (const f of this.faults.values()) if (pred(f)) return true;
    return false;
  }

  list(): Fault[] {
    return [...this.faults.values()];
  }

  add(input: unknown): Fault {
    // `instanceId` (one) is accepted as well as `instanceIds`.
    if (
      typeof input === 'object' &&
      input !== null &&
      'instanceId' in input &&
      typeof input.instanceId === 'string' &&
      !('instanceIds' in input)
    ) {
      const { instanceId, ...rest } = input;
      input = { ...rest, instanceIds: [instanceId] };
    }
    const spec = faultSpecSchema.parse(input);
    // no-stock has never checked its zone; left as it was.
    if (
      spec.kind !== 'no-stock' &&
      'zone' in spec &&
      spec.zone !== undefined &&
      !this.state.zones.includes(spec.zone)
    ) {
      throw new z.ZodError([
        { code: 'custom', path: ['zone'], message: `unknown zone ${spec.zone}`, input: spec.zone },
      ]);
    }
    if (
      (spec.kind === 'stopped-late' || spec.kind === 'stop-lag') &&
      !spec.zone &&
      !spec.instanceIds
    ) {
      throw new z.ZodError([
        {
          code: 'custom',
          path: ['zone'],
          message: 'give zone, instanceIds (or instanceId), or both',
          input,
        },
      ]);
    }
    const fault: Fault = {
      ...spec,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      hits: 0,
    };
    this.faults.set(fault.id, fault);
    this.since.set(fault.id, this.state.now());
    if (spec.kind === 'region-degraded' && spec.seed !== undefined)
      this.rngs.set(fault.id, seededRandom(spec.seed));
    if (spec.kind === 'zone-power-loss') this.state.powerOff(spec.zone);
    if (spec.kind === 'instance-failure') {
      for (const id of spec.instanceIds) if (this.state.instances.has(id)) this.state.fail(id);
    }
    if (spec.kind === 'instances-vanish') {
      const all = !spec.zone && !spec.instanceIds;
      fault.hits = this.state.vanish((inst) => all || targets(spec, inst)).length;
    }
    return fault;
  }

  remove(id: string): boolean {
    const fault = this.faults.get(id);
    if (!fault) return false;
    this.faults.delete(id);
    this.rngs.delete(id);
    this.since.delete(id);
    if (
      fault.kind === 'zone-power-loss' &&
      !this.has((f) => f.kind === 'zone-power-loss' && f.zone === fault.zone)
    ) {
      this.state.powerOn(fault.zone);
    }
    if (fault.kind === 'instance-failure')
      for (const iid of fault.instanceIds) this.state.repair(iid);
    return true;
  }

  clear(): number {
    const ids = [...this.faults.keys()];
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  /** For one API call: the latency to add and the error to answer with, if a fault fires. */
  forAction(
    action: string,
  ): { latencyMs: number; error?: SimApiError; when?: 'before' | 'after' } | null {
    // A degraded region slows every call it touches; that latency adds to whatever fires after it.
    let latencyMs = 0;
    let touched = false;
    for (const f of this.faults.values()) {
      if (f.kind === 'region-degraded') {
        if (f.actions && !f.actions.includes(action)) continue;
        touched = true;
        latencyMs += f.latencyMs;
        if ((this.rngs.get(f.id) ?? this.random)() < f.availability) continue;
        f.hits++;
        return {
          latencyMs,
          when: 'before',
          error: new SimApiError(
            f.status ?? defaultStatusFor(f.code),
            f.code,
            f.message ?? `The request has failed due to a temporary failure of the server.`,
          ),
        };
      }
      if (f.kind !== 'api-error' || (f.action !== '*' && f.action !== action)) continue;
      if (this.random() >= f.probability) continue;
      f.hits++;
      if (f.count !== undefined && f.hits >= f.count) this.faults.delete(f.id);
      latencyMs += f.latencyMs;
      if (!f.code) return { latencyMs };
      const headers: Record<string, string> = {};
      if (f.retryAfterMs !== undefined) headers['x-acs-retry-after'] = String(f.retryAfterMs);
      return {
        latencyMs,
        when: f.when,
        error: new SimApiError(
          f.status ?? defaultStatusFor(f.code),
          f.code,
          f.message ?? `Injected fault: ${f.code}.`,
          headers,
        ),
      };
    }
    return touched ? { latencyMs } : null;
  }
}
