import { CloudError } from './errors';

/** The port to the outside cloud. Alibaba ECS is the first implementation; tests use it against apps/ecs-sim. */
export type InstanceStatus = 'Pending' | 'Starting' | 'Running' | 'Stopping' | 'Stopped';
export type HealthStatusName =
  | 'OK'
  | 'Impaired'
  | 'Warning'
  | 'Maintaining'
  | 'Initializing'
  | 'InsufficientData'
  | 'NotApplicable';
export type StockCategory = 'WithStock' | 'ClosedWithStock' | 'WithoutStock' | 'ClosedWithoutStock';

export const TAG_PROJECT = 'snowline:project';
export const TAG_VALIDATOR = 'snowline:validator';
export const TAG_HOST = 'snowline:host';
/** On instances launched together (one RunInstances with Amount > 1): the launch batch id. */
export const TAG_BATCH = 'snowline:batch';

export interface LaunchRequest {
  /** ≤ 64 ASCII chars, derived from a durable id (the provisioning attempt), never from the clock. */
  clientToken: string;
  zoneId: string;
  instanceType: string;
  /** Plain text; the provider encodes it as the cloud requires. */
  userData?: string;
  tags: Record<string, string>;
  name?: string;
}

export interface CloudInstance {
  instanceId: string;
  zoneId: string;
  status: InstanceStatus;
  instanceType: string;
  tags: Record<string, string>;
  createdAt?: string;
}

export interface SystemEvent {
  eventId: string;
  type: string;
  status?: string;
  notBefore?: string;
}

export interface InstanceFullStatus {
  instanceId: string;
  status: InstanceStatus;
  health: HealthStatusName;
  events: SystemEvent[];
}

export interface StockHint {
  zoneId: string;
  instanceType: string;
  category: StockCategory;
}

/** One instance type one zone offers, with its size (null when the cloud did not say). */
export interface CatalogEntry {
  zoneId: string;
  instanceType: string;
  /** `Available`, or `SoldOut` (still offered: stock comes and goes). */
  status: string;
  category: StockCategory;
  vcpu: number | null;
  memoryGiB: number | null;
}

export interface ZoneInfo {
  zoneId: string;
  localName?: string;
}

/** What `deleteReachable` did: deleted, or refused as unreachable and left for the reaper. */
export interface DeleteOutcome {
  deleted: string[];
  pending: { instanceId: string; zoneId: string; reason: string }[];
}

export abstract class CloudProvider {
  /** Launches one instance; returns its id. Replaying the same clientToken returns the same id. */
  async launch(req: LaunchRequest): Promise<string> {
    return (await this.launchMany(req, 1))[0];
  }
  /**
   * Launches `amount` (1–100) identical instances in one call, all or none; returns their ids in
   * the order the cloud lists them. Replaying the same clientToken returns the same ids.
   */
  abstract launchMany(req: LaunchRequest, amount: number): Promise<string[]>;
  /** Any number of ids; batched by the provider. Ids that no longer exist are absent. */
  abstract describe(instanceIds: string[]): Promise<CloudInstance[]>;
  abstract fullStatus(instanceIds: string[]): Promise<InstanceFullStatus[]>;
  /** Deletes (forcibly); ids already gone count as deleted. */
  abstract delete(instanceIds: string[]): Promise<void>;
  abstract stop(instanceIds: string[]): Promise<void>;
  abstract stock(instanceType?: string): Promise<StockHint[]>;
  abstract listByTag(key: string, value?: string): Promise<CloudInstance[]>;
  abstract zones(): Promise<ZoneInfo[]>;
  /** Every instance type the configured zones offer (DescribeAvailableResource), with vCPU and memory. */
  abstract catalog(): Promise<CatalogEntry[]>;

  /**
   * Deletes zone by zone, so one unreachable zone (ECS refuses every call on a powered-off zone's
   * instances, and a batch deletes all or none) cannot hold back the others. A zone's batch that
   * keeps failing with a retryable error after `attempts` tries is `pending` — but only while the
   * API answers a Describe: a degraded API is not an unreachable zone, and then this throws so the
   * caller retries the whole. Non-retryable errors throw.
   */
  async deleteReachable(
    instances: { instanceId: string; zoneId: string }[],
    opts: { attempts?: number; backoffMs?: number } = {},
  ): Promise<DeleteOutcome> {
    const attempts = opts.attempts ?? 3;
    const byZone = new Map<string, string[]>();
    for (const i of instances) {
      const ids = byZone.get(i.zoneId) ?? [];
      if (!ids.includes(i.instanceId)) ids.push(i.instanceId);
      byZone.set(i.zoneId, ids);
    }
    const out: DeleteOutcome = { deleted: [], pending: [] };
    const failed: { zoneId: string; ids: string[]; err: Error }[] = [];
    for (const [zoneId, ids] of byZone) {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.delete(ids);
          out.deleted.push(...ids);
          break;
        } catch (err) {
          if (!(err instanceof CloudError) || !err.retryable) throw err;
          if (attempt >= attempts) {
            failed.push({ zoneId, ids, err });
            break;
          }
          await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 500) * attempt));
        }
      }
    }
    // Throws when the API itself does not answer: then nothing is known to be unreachable.
    if (failed.length) await this.describe(failed.flatMap((f) => f.ids));
    for (const f of failed)
      for (const instanceId of f.ids)
        out.pending.push({ instanceId, zoneId: f.zoneId, reason: f.err.message });
    return out;
  }
}
