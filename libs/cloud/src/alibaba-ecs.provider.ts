import Ecs20140526, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { AppConfig } from '@snowline/config';
import { mapEcsError } from './alibaba-ecs.errors';
import {
  CloudProvider,
  type CatalogEntry,
  type CloudInstance,
  type HealthStatusName,
  type InstanceFullStatus,
  type InstanceStatus,
  type LaunchRequest,
  type StockCategory,
  type StockHint,
  type SystemEvent,
  type ZoneInfo,
} from './cloud-provider';
import { InvalidConfig, NotFound, Throttled, Transient } from './errors';
import { RateLimiter, type RateLimits } from './rate-limiter';

export type EcsCloudConfig = AppConfig['cloud'];

export interface AlibabaEcsProviderOptions {
  /** Client-side token buckets per (region, action); null/undefined = unlimited. */
  rateLimits?: RateLimits | null;
  /** Longest a call waits for a rate-limit token before it fails Throttled. */
  maxRateWaitMs?: number;
  /** System disk for new instances; real ECS types such as g7 need cloud_essd. */
  systemDisk?: { category: string; sizeGiB?: number };
}

/** ECS batch limits (shared/reference/alibaba-ecs.md). */
const BATCH = 100;
const STATUSES: InstanceStatus[] = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'];
const HEALTH: HealthStatusName[] = [
  'OK',
  'Impaired',
  'Warning',
  'Maintaining',
  'Initializing',
  'InsufficientData',
  'NotApplicable',
];
const STOCK: StockCategory[] = [
  'WithStock',
  'ClosedWithStock',
  'WithoutStock',
  'ClosedWithoutStock',
];

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toStatus(s: string | undefined): InstanceStatus {
  // Deleted/unknown states never reach here for live instances; treat the rest as Pending (not yet usable).
  return STATUSES.find((x) => x === s) ?? 'Pending';
}

function toHealth(s: string | undefined): HealthStatusName {
  const lower = (s ?? '').toLowerCase();
  return HEALTH.find((h) => h.toLowerCase() === lower) ?? 'InsufficientData';
}

/** The CloudProvider for Alibaba Cloud ECS, through the real `@alicloud/ecs20140526` client. */
export class AlibabaEcsProvider extends CloudProvider {
  private readonly client: Ecs20140526;
  private readonly limiter: RateLimiter | null;

  constructor(
    private readonly config: EcsCloudConfig,
    private readonly opts: AlibabaEcsProviderOptions = {},
  ) {
    super();
    this.client = new Ecs20140526(
      new $OpenApiUtil.Config({
        accessKeyId: config.accessKeyId,
        accessKeySecret: config.accessKeySecret,
        regionId: config.region,
        endpoint: config.endpoint,
        protocol: config.protocol,
        readTimeout: config.timeoutMs,
        connectTimeout: Math.min(config.timeoutMs, 5000),
      }),
    );
    this.limiter = opts.rateLimits
      ? new RateLimiter(opts.rateLimits, { maxWaitMs: opts.maxRateWaitMs })
      : null;
  }

  /** Every SDK call goes through here: rate limit, then the call, then error mapping. */
  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    await this.limiter?.acquire(this.config.region, action);
    try {
      return await fn();
    } catch (err) {
      const mapped = mapEcsError(err, action, [
        this.config.accessKeySecret,
        this.config.accessKeyId,
      ]);
      if (mapped instanceof Throttled)
        this.limiter?.backOff(this.config.region, action, mapped.retryAfterMs);
      throw mapped;
    }
  }

  async launchMany(req: LaunchRequest, amount: number): Promise<string[]> {
    if (!Number.isInteger(amount) || amount < 1 || amount > 100)
      throw new InvalidConfig(`amount must be 1–100 (ECS RunInstances), not ${amount}`);
    const vSwitchId = this.config.vswitches[req.zoneId];
    if (!vSwitchId) {
      throw new InvalidConfig(`no vSwitch configured for zone ${req.zoneId} (ECS_VSWITCHES)`);
    }
    if (
      !req.clientToken ||
      req.clientToken.length > 64 ||
      !/^[\x20-\x7e]+$/.test(req.clientToken)
    ) {
      throw new InvalidConfig('clientToken must be 1–64 ASCII characters');
    }
    const request = new $Ecs.RunInstancesRequest({
      regionId: this.config.region,
      zoneId: req.zoneId,
      instanceType: req.instanceType,
      imageId: this.config.imageId,
      vSwitchId,
      securityGroupId: this.config.securityGroupId,
      amount,
      // All or none: a partial batch would leave host rows without instances to tell apart.
      minAmount: amount,
      clientToken: req.clientToken,
      instanceName: req.name,
      userData:
        req.userData !== undefined
          ? Buffer.from(req.userData, 'utf8').toString('base64')
          : undefined,
      tag: Object.entries(req.tags).map(
        ([key, value]) => new $Ecs.RunInstancesRequestTag({ key, value }),
      ),
      systemDisk: this.opts.systemDisk
        ? new $Ecs.RunInstancesRequestSystemDisk({
            category: this.opts.systemDisk.category,
            size: this.opts.systemDisk.sizeGiB ? String(this.opts.systemDisk.sizeGiB) : undefined,
          })
        : undefined,
    });
    const res = await this.call('RunInstances', () => this.client.runInstances(request));
    const ids = res.body?.instanceIdSets?.instanceIdSet ?? [];
    if (ids.length !== amount)
      throw new Transient(
        `ECS RunInstances: the response named ${ids.length} instance(s), not ${amount}`,
        undefined,
        res.body?.requestId,
      );
    return ids;
  }

  async describe(instanceIds: string[]): Promise<CloudInstance[]> {
    const out: CloudInstance[] = [];
    for (const batch of chunks([...new Set(instanceIds)], BATCH)) {
      out.push(...(await this.describePages({ instanceIds: JSON.stringify(batch) })));
    }
    return out;
  }

  async listByTag(key: string, value?: string): Promise<CloudInstance[]> {
    return this.describePages({ tag: [new $Ecs.DescribeInstancesRequestTag({ key, value })] });
  }

  private async describePages(
    filter: Partial<$Ecs.DescribeInstancesRequest>,
  ): Promise<CloudInstance[]> {
    const out: CloudInstance[] = [];
    let nextToken: string | undefined;
    do {
      const request = new $Ecs.DescribeInstancesRequest({
        ...filter,
        regionId: this.config.region,
        maxResults: BATCH,
        nextToken,
      });
      const res = await this.call('DescribeInstances', () =>
        this.client.describeInstances(request),
      );
      for (const i of res.body?.instances?.instance ?? []) {
        if (!i.instanceId) continue;
        const tags: Record<string, string> = {};
        for (const t of i.tags?.tag ?? []) if (t.tagKey) tags[t.tagKey] = t.tagValue ?? '';
        out.push({
          instanceId: i.instanceId,
          zoneId: i.zoneId ?? '',
          status: toStatus(i.status),
          instanceType: i.instanceType ?? '',
          tags,
          createdAt: i.creationTime,
        });
      }
      nextToken = res.body?.nextToken || undefined;
    } while (nextToken);
    return out;
  }

  async fullStatus(instanceIds: string[]): Promise<InstanceFullStatus[]> {
    const out: InstanceFullStatus[] = [];
    for (const batch of chunks([...new Set(instanceIds)], BATCH)) {
      const request = new $Ecs.DescribeInstancesFullStatusRequest({
        regionId: this.config.region,
        instanceId: batch,
        pageSize: BATCH,
      });
      const res = await this.call('DescribeInstancesFullStatus', () =>
        this.client.describeInstancesFullStatus(request),
      );
      for (const s of res.body?.instanceFullStatusSet?.instanceFullStatusType ?? []) {
        if (!s.instanceId) continue;
        const events: SystemEvent[] = (
          s.scheduledSystemEventSet?.scheduledSystemEventType ?? []
        ).map((e) => ({
          eventId: e.eventId ?? '',
          type: e.eventType?.name ?? '',
          status: e.eventCycleStatus?.name,
          notBefore: e.notBefore,
        }));
        out.push({
          instanceId: s.instanceId,
          status: toStatus(s.status?.name),
          health: toHealth(s.healthStatus?.name),
          events,
        });
      }
    }
    return out;
  }

  /** Force-deletes; ids already gone count as deleted. ECS fails a whole batch on one unknown id. */
  async delete(instanceIds: string[]): Promise<void> {
    for (const batch of chunks([...new Set(instanceIds)], BATCH)) {
      let remaining = batch;
      for (let attempt = 0; remaining.length > 0; attempt++) {
        const ids = remaining;
        try {
          await this.call('DeleteInstances', () =>
            this.client.deleteInstances(
              new $Ecs.DeleteInstancesRequest({
                regionId: this.config.region,
                instanceId: ids,
                force: true,
              }),
            ),
          );
          break;
        } catch (err) {
          if (!(err instanceof NotFound) || attempt >= 3) throw err;
          // Some are gone already: delete only those that still exist.
          const alive = new Set((await this.describe(ids)).map((i) => i.instanceId));
          remaining = ids.filter((id) => alive.has(id));
        }
      }
    }
  }

  /** Force-stops; ids already stopped (or gone) count as stopped. */
  async stop(instanceIds: string[]): Promise<void> {
    for (const batch of chunks([...new Set(instanceIds)], BATCH)) {
      const request = new $Ecs.StopInstancesRequest({
        regionId: this.config.region,
        instanceId: batch,
        forceStop: true,
        batchOptimization: 'SuccessFirst',
      });
      const res = await this.call('StopInstances', () => this.client.stopInstances(request));
      for (const r of res.body?.instanceResponses?.instanceResponse ?? []) {
        const code = r.code ?? '200';
        if (code === '200' || code === 'InvalidInstanceId.NotFound') continue;
        if (
          code === 'IncorrectInstanceStatus' &&
          (r.currentStatus === 'Stopped' || r.currentStatus === 'Stopping')
        ) {
          continue;
        }
        throw mapEcsError(
          { statusCode: 403, code, data: { Message: r.message }, requestId: res.body?.requestId },
          'StopInstances',
        );
      }
    }
  }

  async stock(instanceType = this.config.defaultInstanceType): Promise<StockHint[]> {
    const request = new $Ecs.DescribeAvailableResourceRequest({
      regionId: this.config.region,
      destinationResource: 'InstanceType',
      instanceType,
      instanceChargeType: 'PostPaid',
    });
    const res = await this.call('DescribeAvailableResource', () =>
      this.client.describeAvailableResource(request),
    );
    const out: StockHint[] = [];
    for (const z of res.body?.availableZones?.availableZone ?? []) {
      if (!z.zoneId || !this.config.zones.includes(z.zoneId)) continue;
      const supported = (z.availableResources?.availableResource ?? [])
        .filter((r) => r.type === 'InstanceType')
        .flatMap((r) => r.supportedResources?.supportedResource ?? [])
        .find((s) => s.value === instanceType);
      const raw = supported?.statusCategory ?? z.statusCategory;
      out.push({
        zoneId: z.zoneId,
        instanceType,
        category: STOCK.find((c) => c === raw) ?? (supported ? 'WithStock' : 'WithoutStock'),
      });
    }
    // A configured zone the answer leaves out has no stock for this type.
    for (const zoneId of this.config.zones) {
      if (!out.some((h) => h.zoneId === zoneId))
        out.push({ zoneId, instanceType, category: 'WithoutStock' });
    }
    return out;
  }

  async zones(): Promise<ZoneInfo[]> {
    const res = await this.call('DescribeZones', () =>
      this.client.describeZones(new $Ecs.DescribeZonesRequest({ regionId: this.config.region })),
    );
    return (res.body?.zones?.zone ?? [])
      .filter((z) => !!z.zoneId)
      .map((z) => ({ zoneId: z.zoneId!, localName: z.localName }));
  }

  async catalog(): Promise<CatalogEntry[]> {
    // No InstanceType: ECS answers every type of every zone in one call.
    const request = new $Ecs.DescribeAvailableResourceRequest({
      regionId: this.config.region,
      destinationResource: 'InstanceType',
      ioOptimized: 'optimized',
      instanceChargeType: 'PostPaid',
    });
    const res = await this.call('DescribeAvailableResource', () =>
      this.client.describeAvailableResource(request),
    );
    const offered: Omit<CatalogEntry, 'vcpu' | 'memoryGiB'>[] = [];
    for (const z of res.body?.availableZones?.availableZone ?? []) {
      if (!z.zoneId || !this.config.zones.includes(z.zoneId)) continue;
      for (const r of z.availableResources?.availableResource ?? []) {
        if (r.type !== 'InstanceType') continue;
        for (const t of r.supportedResources?.supportedResource ?? []) {
          if (!t.value) continue;
          offered.push({
            zoneId: z.zoneId,
            instanceType: t.value,
            status: t.status ?? 'Available',
            category: STOCK.find((c) => c === t.statusCategory) ?? 'WithStock',
          });
        }
      }
    }
    // DescribeAvailableResource gives no sizes; DescribeInstanceTypes does (MemorySize in GiB).
    const sizes = new Map<string, { vcpu: number | null; memoryGiB: number | null }>();
    let nextToken: string | undefined;
    do {
      const page = new $Ecs.DescribeInstanceTypesRequest({ maxResults: 1600, nextToken });
      const types = await this.call('DescribeInstanceTypes', () =>
        this.client.describeInstanceTypes(page),
      );
      for (const t of types.body?.instanceTypes?.instanceType ?? []) {
        if (t.instanceTypeId)
          sizes.set(t.instanceTypeId, {
            vcpu: t.cpuCoreCount ?? null,
            memoryGiB: t.memorySize ?? null,
          });
      }
      nextToken = types.body?.nextToken || undefined;
    } while (nextToken);
    return offered.map((o) => ({
      ...o,
      ...(sizes.get(o.instanceType) ?? { vcpu: null, memoryGiB: null }),
    }));
  }
}
