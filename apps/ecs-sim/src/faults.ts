import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SimApiError } from './sim-error';
import type { SimState } from './state';

/**
 * The fault API (`POST/GET/DELETE /_sim/faults`), modelled on LocalStack's chaos API: faults per
 * zone, instance or API action, with a probability, a status code and a latency.
 */
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
]);
export type FaultSpec = z.infer<typeof faultSpecSchema>;
export type FaultSpecInput = z.input<typeof faultSpecSchema>;
export type Fault = FaultSpec & { id: string; createdAt: string; hits: number };

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

export class FaultRegistry {
  private readonly faults = new Map<string, Fault>();

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
    if (
      (spec.kind === 'zone-power-loss' || spec.kind === 'zone-partition') &&
      !this.state.zones.includes(spec.zone)
    ) {
      throw new z.ZodError([
        { code: 'custom', path: ['zone'], message: `unknown zone ${spec.zone}`, input: spec.zone },
      ]);
    }
    const fault: Fault = {
      ...spec,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      hits: 0,
    };
    this.faults.set(fault.id, fault);
    if (spec.kind === 'zone-power-loss') this.state.powerOff(spec.zone);
    if (spec.kind === 'instance-failure') {
      for (const id of spec.instanceIds) if (this.state.instances.has(id)) this.state.fail(id);
    }
    return fault;
  }

  remove(id: string): boolean {
    const fault = this.faults.get(id);
    if (!fault) return false;
    this.faults.delete(id);
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
    for (const f of this.faults.values()) {
      if (f.kind !== 'api-error' || (f.action !== '*' && f.action !== action)) continue;
      if (this.random() >= f.probability) continue;
      f.hits++;
      if (f.count !== undefined && f.hits >= f.count) this.faults.delete(f.id);
      if (!f.code) return { latencyMs: f.latencyMs };
      const headers: Record<string, string> = {};
      if (f.retryAfterMs !== undefined) headers['x-acs-retry-after'] = String(f.retryAfterMs);
      return {
        latencyMs: f.latencyMs,
        when: f.when,
        error: new SimApiError(
          f.status ?? defaultStatusFor(f.code),
          f.code,
          f.message ?? `Injected fault: ${f.code}.`,
          headers,
        ),
      };
    }
    return null;
  }
}
