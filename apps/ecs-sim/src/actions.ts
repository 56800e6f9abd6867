import { SIM_INSTANCE_TYPES, SIM_SECURITY_GROUP, SIM_VPC, ZONE_LOCAL_NAMES } from './catalog';
import { SimApiError, instanceNotFound } from './sim-error';
import type { SimEvent, SimInstance, SimState, SimStatus } from './state';

export type Query = Record<string, string>;
export type ActionHandler = (state: SimState, q: Query) => Record<string, unknown>;

const STATUSES: SimStatus[] = ['Pending', 'Starting', 'Running', 'Stopping', 'Stopped'];
const MAX_USER_DATA_BYTES = 32 * 1024;

// ---- parameter helpers ----------------------------------------------------------------------

function required(q: Query, name: string): string {
  const v = q[name];
  if (v === undefined || v === '') {
    throw new SimApiError(
      400,
      `MissingParameter`,
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    );
  }
  return v;
}

function optional(q: Query, name: string): string | undefined {
  const v = q[name];
  return v === undefined || v === '' ? undefined : v;
}

function bool(q: Query, name: string): boolean {
  return (q[name] ?? '').toLowerCase() === 'true';
}

function int(q: Query, name: string, dflt: number, min: number, max: number): number {
  const raw = q[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SimApiError(
      400,
      `InvalidParameter.${name}`,
      `The specified parameter ${name} (${raw}) must be an integer from ${min} to ${max}.`,
    );
  }
  return n;
}

/** Flattened list `Name.1`, `Name.2`, … */
function list(q: Query, name: string): string[] {
  const out: { i: number; v: string }[] = [];
  const prefix = `${name}.`;
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith(prefix)) continue;
    const i = Number(k.slice(prefix.length));
    if (Number.isInteger(i) && i > 0) out.push({ i, v });
  }
  return out.sort((a, b) => a.i - b.i).map((x) => x.v);
}

/** `Tag.N.Key` / `Tag.N.Value` pairs; a missing value means "any value" in filters. */
function tags(q: Query): { key: string; value?: string }[] {
  const byIndex = new Map<number, { key?: string; value?: string }>();
  for (const [k, v] of Object.entries(q)) {
    const m = /^Tag\.(\d+)\.(Key|Value)$/.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    const entry = byIndex.get(i) ?? {};
    if (m[2] === 'Key') entry.key = v;
    else entry.value = v;
    byIndex.set(i, entry);
  }
  const out: { key: string; value?: string }[] = [];
  for (const [i, e] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
    if (!e.key)
      throw new SimApiError(400, 'InvalidTagKey.Malformed', `Tag.${i}.Key must be given.`);
    out.push({ key: e.key, value: e.value });
  }
  if (out.length > 20)
    throw new SimApiError(400, 'InvalidTags.Malformed', 'At most 20 tags may be given.');
  return out;
}

function checkRegion(state: SimState, q: Query): void {
  const regionId = required(q, 'RegionId');
  if (regionId !== state.region) {
    throw new SimApiError(
      404,
      'InvalidRegionId.NotFound',
      `The specified RegionId ${regionId} does not exist.`,
    );
  }
}

function instanceIds(q: Query, max = 100): string[] {
  const ids = list(q, 'InstanceId');
  if (ids.length === 0)
    throw new SimApiError(
      400,
      'MissingParameter',
      'The input parameter "InstanceId" is not supplied.',
    );
  if (ids.length > max)
    throw new SimApiError(
      400,
      'InvalidParameter.InstanceIdCount',
      `At most ${max} InstanceId values may be given.`,
    );
  return ids;
}

function decodeUserData(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw) || raw.length % 4 !== 0) {
    throw new SimApiError(
      400,
      'InvalidUserData.Base64FormatInvalid',
      'The specified UserData is not valid base64.',
    );
  }
  const buf = Buffer.from(raw, 'base64');
  if (buf.length > MAX_USER_DATA_BYTES) {
    throw new SimApiError(
      400,
      'InvalidUserData.SizeExceeded',
      `UserData must be at most ${MAX_USER_DATA_BYTES} bytes.`,
    );
  }
  return buf.toString('utf8');
}

/** ECS time format: `2025-01-01T00:00Z` (minutes) for instances, seconds for events. */
const minuteTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16)}Z`;
const secondTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function nextTokenOf(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function parseNextToken(raw: string | undefined): number {
  if (!raw) return 0;
  const m = /^seq:(\d+)$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m)
    throw new SimApiError(400, 'InvalidParameter.NextToken', 'The specified NextToken is invalid.');
  return Number(m[1]);
}

/** Pages by NextToken (opaque) or by PageNumber/PageSize, over items in creation order. */
function page<T extends { seq: number }>(
  items: T[],
  q: Query,
  maxName: 'MaxResults' | 'PageSize',
  maxLimit: number,
  dfltLimit: number,
): { items: T[]; nextToken: string; pageNumber: number; pageSize: number; total: number } {
  const limit = int(q, maxName, dfltLimit, 1, maxLimit);
  const token = optional(q, 'NextToken');
  if (token || !q.PageNumber) {
    const after = parseNextToken(token);
    const start = after ? items.findIndex((i) => i.seq > after) : 0;
    const slice = start < 0 ? [] : items.slice(start, start + limit);
    const more = start >= 0 && start + limit < items.length;
    return {
      items: slice,
      nextToken: more ? nextTokenOf(slice[slice.length - 1]!.seq) : '',
      pageNumber: 1,
      pageSize: limit,
      total: items.length,
    };
  }
  const pageNumber = int(q, 'PageNumber', 1, 1, 1_000_000);
  return {
    items: items.slice((pageNumber - 1) * limit, pageNumber * limit),
    nextToken: '',
    pageNumber,
    pageSize: limit,
    total: items.length,
  };
}

function selectInstances(state: SimState, q: Query, idsParam: string | undefined): SimInstance[] {
  let base: SimInstance[];
  if (idsParam !== undefined) {
    let ids: unknown;
    try {
      ids = JSON.parse(idsParam);
    } catch {
      ids = null;
    }
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
      throw new SimApiError(
        400,
        'InvalidInstanceIds.Malformed',
        'The specified InstanceIds must be a JSON array of strings.',
      );
    }
    if (ids.length > 100) {
      throw new SimApiError(
        400,
        'InvalidInstanceIds.Malformed',
        'At most 100 InstanceIds may be given.',
      );
    }
    base = [];
    for (const id of new Set(ids as string[])) {
      const inst = state.instances.get(id);
      if (inst) base.push(inst);
    }
    base.sort((a, b) => a.seq - b.seq);
  } else {
    base = [...state.instances.values()];
  }
  const zoneId = optional(q, 'ZoneId');
  const status = optional(q, 'Status');
  if (status !== undefined && !STATUSES.includes(status as SimStatus)) {
    throw new SimApiError(
      400,
      'InvalidStatus.ValueNotSupported',
      `The specified Status ${status} is not supported.`,
    );
  }
  const vsw = optional(q, 'VSwitchId');
  const type = optional(q, 'InstanceType');
  const name = optional(q, 'InstanceName');
  const tagFilters = tags(q);
  return base.filter(
    (i) =>
      (zoneId === undefined || i.zoneId === zoneId) &&
      (status === undefined || state.reportedStatus(i) === status) &&
      (vsw === undefined || i.vSwitchId === vsw) &&
      (type === undefined || i.instanceType === type) &&
      (name === undefined || i.instanceName === name) &&
      tagFilters.every(
        (t) => i.tags.has(t.key) && (t.value === undefined || i.tags.get(t.key) === t.value),
      ),
  );
}

function instanceView(state: SimState, i: SimInstance): Record<string, unknown> {
  const spec = SIM_INSTANCE_TYPES[i.instanceType];
  const status = state.reportedStatus(i);
  return {
    InstanceId: i.instanceId,
    InstanceName: i.instanceName,
    HostName: i.instanceId,
    RegionId: i.regionId,
    ZoneId: i.zoneId,
    Status: status,
    InstanceType: i.instanceType,
    InstanceTypeFamily: i.instanceType.split('.').slice(0, 2).join('.'),
    Cpu: spec?.cpu ?? 0,
    Memory: spec?.memoryMiB ?? 0,
    ImageId: i.imageId,
    OSName: 'Ubuntu 24.04 64位',
    OSType: 'linux',
    InstanceChargeType: 'PostPaid',
    InternetChargeType: 'PayByTraffic',
    InstanceNetworkType: 'vpc',
    CreationTime: minuteTime(i.createdAt),
    StartTime: i.startedAt ? minuteTime(i.startedAt) : '',
    ExpiredTime: '2099-12-31T15:59Z',
    StoppedMode: status === 'Stopped' ? 'KeepCharging' : 'Not-applicable',
    SecurityGroupIds: { SecurityGroupId: [i.securityGroupId] },
    VpcAttributes: {
      VpcId: SIM_VPC,
      VSwitchId: i.vSwitchId,
      PrivateIpAddress: { IpAddress: [i.privateIp] },
    },
    PublicIpAddress: { IpAddress: [] },
    Tags: { Tag: [...i.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
    OperationLocks: { LockReason: [] },
    HealthStatus: state.health(i, status),
  };
}

function eventView(e: SimEvent): Record<string, unknown> {
  const codes: Record<string, number> = { 'SystemFailure.Reboot': 1, 'SystemFailure.Redeploy': 2 };
  const cycleCodes: Record<string, number> = {
    Scheduled: 1,
    Executing: 2,
    Executed: 3,
    Canceled: 4,
    Inquiring: 5,
  };
  return {
    EventId: e.eventId,
    InstanceId: e.instanceId,
    EventType: { Name: e.type, Code: codes[e.type] ?? 0 },
    EventCycleStatus: { Name: e.cycleStatus, Code: cycleCodes[e.cycleStatus] ?? 0 },
    EventPublishTime: secondTime(e.publishTime),
    NotBefore: secondTime(e.notBefore),
    EventFinishTime: e.finishTime ? secondTime(e.finishTime) : '',
    Reason: e.reason,
    ReasonCode: 'SystemMaintenance',
    ImpactLevel: '100',
  };
}

const STATUS_CODES: Record<SimStatus, number> = {
  Pending: 0,
  Starting: 0,
  Running: 1,
  Stopping: 64,
  Stopped: 80,
};
const HEALTH_CODES: Record<string, number> = {
  OK: 0,
  Impaired: 1,
  Warning: 2,
  Maintaining: 3,
  Initializing: 4,
  InsufficientData: 5,
  NotApplicable: 6,
};

// ---- actions ----------------------------------------------------------------------------------

const RunInstances: ActionHandler = (state, q) => {
  const amount = int(q, 'Amount', 1, 1, 100);
  const minAmount = int(q, 'MinAmount', amount, 1, 100);
  if (minAmount > amount)
    throw new SimApiError(400, 'InvalidParameter.MinAmount', 'MinAmount must not exceed Amount.');
  const clientToken = optional(q, 'ClientToken');
  if (clientToken && (clientToken.length > 64 || !/^[\x20-\x7e]+$/.test(clientToken))) {
    throw new SimApiError(
      400,
      'InvalidClientToken.Malformed',
      'ClientToken must be at most 64 ASCII characters.',
    );
  }
  const ids = state.run(
    {
      regionId: required(q, 'RegionId'),
      zoneId: optional(q, 'ZoneId'),
      instanceType: required(q, 'InstanceType'),
      imageId: required(q, 'ImageId'),
      vSwitchId: required(q, 'VSwitchId'),
      securityGroupId: optional(q, 'SecurityGroupId') ?? SIM_SECURITY_GROUP,
      amount,
      instanceName: optional(q, 'InstanceName'),
      tags: tags(q).map((t) => [t.key, t.value ?? ''] as [string, string]),
      userData: decodeUserData(optional(q, 'UserData')),
    },
    clientToken,
  );
  return {
    OrderId: '',
    TradePrice: 0,
    InstanceIdSets: { InstanceIdSet: ids },
  };
};

const DescribeInstances: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const selected = selectInstances(state, q, optional(q, 'InstanceIds'));
  const p = page(selected, q, q.PageSize && !q.MaxResults ? 'PageSize' : 'MaxResults', 100, 10);
  return {
    Instances: { Instance: p.items.map((i) => instanceView(state, i)) },
    NextToken: p.nextToken,
    TotalCount: p.total,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
  };
};

const DeleteInstance: ActionHandler = (state, q) => {
  state.delete([required(q, 'InstanceId')], bool(q, 'Force'));
  return {};
};

const DeleteInstances: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const ids = instanceIds(q);
  if (bool(q, 'DryRun')) {
    for (const id of ids) state.get(id);
    throw new SimApiError(
      400,
      'DryRunOperation',
      'Request validation has been passed with DryRun flag set.',
    );
  }
  state.delete(ids, bool(q, 'Force'));
  return {};
};

const DescribeInstanceStatus: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const ids = list(q, 'InstanceId');
  const zoneId = optional(q, 'ZoneId');
  let items: SimInstance[];
  if (ids.length) {
    if (ids.length > 100)
      throw new SimApiError(
        400,
        'InvalidParameter.InstanceIdCount',
        'At most 100 InstanceId values.',
      );
    items = ids.map((id) => state.instances.get(id)).filter((i): i is SimInstance => !!i);
    items.sort((a, b) => a.seq - b.seq);
  } else items = [...state.instances.values()];
  if (zoneId) items = items.filter((i) => i.zoneId === zoneId);
  const p = page(items, { ...q, PageNumber: q.PageNumber ?? '1' }, 'PageSize', 50, 10);
  return {
    InstanceStatuses: {
      InstanceStatus: p.items.map((i) => ({
        InstanceId: i.instanceId,
        Status: state.reportedStatus(i),
      })),
    },
    TotalCount: p.total,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
  };
};

const DescribeInstancesFullStatus: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const ids = list(q, 'InstanceId');
  if (ids.length > 100)
    throw new SimApiError(
      400,
      'InvalidParameter.InstanceIdCount',
      'At most 100 InstanceId values.',
    );
  let items: SimInstance[] = ids.length
    ? ids.map((id) => state.instances.get(id)).filter((i): i is SimInstance => !!i)
    : [...state.instances.values()];
  const health = optional(q, 'HealthStatus');
  if (health) {
    items = items.filter(
      (i) => state.health(i, state.reportedStatus(i)).toLowerCase() === health.toLowerCase(),
    );
  }
  const status = optional(q, 'Status');
  if (status) items = items.filter((i) => state.reportedStatus(i) === status);
  items.sort((a, b) => a.seq - b.seq);
  const p = page(items, { ...q, PageNumber: q.PageNumber ?? '1' }, 'PageSize', 100, 10);
  return {
    InstanceFullStatusSet: {
      InstanceFullStatusType: p.items.map((i) => {
        const shown = state.reportedStatus(i);
        const h = state.health(i, shown);
        return {
          InstanceId: i.instanceId,
          Status: { Name: shown, Code: STATUS_CODES[shown] },
          HealthStatus: { Name: h, Code: HEALTH_CODES[h] },
          ScheduledSystemEventSet: {
            ScheduledSystemEventType: i.events
              .filter(
                (e) =>
                  e.cycleStatus === 'Scheduled' ||
                  e.cycleStatus === 'Executing' ||
                  e.cycleStatus === 'Inquiring',
              )
              .map(eventView),
          },
        };
      }),
    },
    TotalCount: p.total,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
  };
};

const DescribeInstanceHistoryEvents: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const one = optional(q, 'InstanceId');
  const ids = one ? [one] : list(q, 'ResourceId');
  const cycle = list(q, 'InstanceEventCycleStatus');
  const types = list(q, 'InstanceEventType');
  const source = ids.length
    ? ids.map((id) => state.instances.get(id)).filter((i): i is SimInstance => !!i)
    : [...state.instances.values()];
  let seq = 0;
  const events: (SimEvent & { seq: number })[] = [];
  for (const inst of source) {
    for (const e of inst.events) {
      // Without InstanceEventCycleStatus, ECS lists only finished events (the reference's trap).
      const wanted = cycle.length
        ? cycle.includes(e.cycleStatus)
        : e.cycleStatus === 'Executed' || e.cycleStatus === 'Canceled';
      if (wanted && (!types.length || types.includes(e.type))) events.push({ ...e, seq: ++seq });
    }
  }
  const limit = int(q, 'MaxResults', 10, 10, 100);
  const p = page(events, { ...q, MaxResults: String(limit) }, 'MaxResults', 100, 10);
  return {
    InstanceSystemEventSet: { InstanceSystemEventType: p.items.map(eventView) },
    NextToken: p.nextToken,
    TotalCount: p.total,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
  };
};

function batchResults(
  ids: string[],
  op: (id: string) => { previous: SimStatus; current: SimStatus },
  state: SimState,
): Record<string, unknown> {
  return {
    InstanceResponses: {
      InstanceResponse: ids.map((id) => {
        try {
          const r = op(id);
          return {
            InstanceId: id,
            Code: '200',
            Message: 'success',
            PreviousStatus: r.previous,
            CurrentStatus: r.current,
          };
        } catch (err) {
          if (!(err instanceof SimApiError)) throw err;
          const cur = state.instances.get(id)?.status ?? '';
          return {
            InstanceId: id,
            Code: err.code,
            Message: err.message,
            PreviousStatus: cur,
            CurrentStatus: cur,
          };
        }
      }),
    },
  };
}

const StopInstances: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const ids = instanceIds(q);
  // BatchOptimization=AllTogether (the default) fails the whole call when any id is unknown.
  if ((q.BatchOptimization ?? 'AllTogether') === 'AllTogether') {
    for (const id of ids) if (!state.instances.has(id)) throw instanceNotFound(id);
  }
  return batchResults(ids, (id) => state.stop(id), state);
};

const StartInstances: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const ids = instanceIds(q);
  if ((q.BatchOptimization ?? 'AllTogether') === 'AllTogether') {
    for (const id of ids) if (!state.instances.has(id)) throw instanceNotFound(id);
  }
  return batchResults(ids, (id) => state.start(id), state);
};

const StopInstance: ActionHandler = (state, q) => {
  state.stop(required(q, 'InstanceId'));
  return {};
};

const StartInstance: ActionHandler = (state, q) => {
  state.start(required(q, 'InstanceId'));
  return {};
};

const RebootInstance: ActionHandler = (state, q) => {
  state.reboot(required(q, 'InstanceId'));
  return {};
};

const DescribeZones: ActionHandler = (state, q) => {
  checkRegion(state, q);
  return {
    Zones: {
      Zone: state.zones.map((z) => ({
        ZoneId: z,
        LocalName: ZONE_LOCAL_NAMES[z] ?? z,
        ZoneType: 'AvailabilityZone',
        AvailableResourceCreation: { ResourceTypes: ['Instance', 'Disk', 'VSwitch'] },
        AvailableInstanceTypes: { InstanceTypes: Object.keys(SIM_INSTANCE_TYPES) },
        AvailableDiskCategories: { DiskCategories: ['cloud_essd'] },
      })),
    },
  };
};

const DescribeAvailableResource: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const zoneId = optional(q, 'ZoneId');
  const type = optional(q, 'InstanceType');
  const dest = optional(q, 'DestinationResource') ?? 'InstanceType';
  if (dest !== 'InstanceType' && dest !== 'Zone') {
    throw new SimApiError(
      400,
      'InvalidParameter.DestinationResource',
      `DestinationResource ${dest} is not supported by the simulator.`,
    );
  }
  const zones = state.zones.filter((z) => zoneId === undefined || z === zoneId);
  const types = Object.keys(SIM_INSTANCE_TYPES).filter((t) => type === undefined || t === type);
  return {
    AvailableZones: {
      AvailableZone: zones.map((z) => {
        const anyStock = types.some((t) => !state.isOutOfStock(z, t));
        return {
          RegionId: state.region,
          ZoneId: z,
          Status: 'Available',
          StatusCategory: anyStock ? 'WithStock' : 'WithoutStock',
          AvailableResources: {
            AvailableResource: [
              {
                Type: 'InstanceType',
                SupportedResources: {
                  SupportedResource: types.map((t) => {
                    const out = state.isOutOfStock(z, t);
                    return {
                      Value: t,
                      Status: out ? 'SoldOut' : 'Available',
                      StatusCategory: out ? 'WithoutStock' : 'WithStock',
                    };
                  }),
                },
              },
            ],
          },
        };
      }),
    },
  };
};

/** As ECS: the instance's UserData, base64 (what any RAM user allowed ecs:DescribeUserData reads). */
const DescribeUserData: ActionHandler = (state, q) => {
  checkRegion(state, q);
  const id = required(q, 'InstanceId');
  const inst = state.instances.get(id);
  if (!inst) throw instanceNotFound(id);
  return {
    InstanceId: id,
    RegionId: state.region,
    UserData: inst.userData ? Buffer.from(inst.userData, 'utf8').toString('base64') : '',
  };
};

/**
 * The sizes of instance types, as ECS pages them (`MaxResults` ≤ 1600, `NextToken`); `InstanceTypes.N`
 * and `InstanceTypeFamily` filter. ECS takes no RegionId here: the catalog of sizes is global.
 */
const DescribeInstanceTypes: ActionHandler = (_state, q) => {
  const wanted = list(q, 'InstanceTypes');
  const family = optional(q, 'InstanceTypeFamily');
  const max = int(q, 'MaxResults', 1600, 1, 1600);
  const all = Object.entries(SIM_INSTANCE_TYPES)
    .map(([id, spec]) => ({ id, family: id.split('.').slice(0, 2).join('.'), spec }))
    .filter(
      (t) => (wanted.length === 0 || wanted.includes(t.id)) && (!family || t.family === family),
    )
    .sort((a, b) => a.id.localeCompare(b.id));
  const start = q.NextToken ? Number(q.NextToken) : 0;
  if (!Number.isInteger(start) || start < 0 || start > all.length) {
    throw new SimApiError(400, 'InvalidParameter.NextToken', 'The specified NextToken is invalid.');
  }
  const page = all.slice(start, start + max);
  const next = start + page.length < all.length ? String(start + page.length) : '';
  return {
    InstanceTypes: {
      InstanceType: page.map((t) => ({
        InstanceTypeId: t.id,
        InstanceTypeFamily: t.family,
        CpuCoreCount: t.spec.cpu,
        // ECS gives memory in GiB here (DescribeInstances' `Memory` is MiB).
        MemorySize: t.spec.memoryMiB / 1024,
        CpuArchitecture: 'X86',
        InstanceCategory: 'General-purpose',
      })),
    },
    NextToken: next,
  };
};

const DescribeRegions: ActionHandler = (state) => ({
  Regions: {
    Region: [
      {
        RegionId: state.region,
        LocalName: '中国香港',
        RegionEndpoint: 'ecs.cn-hongkong.aliyuncs.com',
        Status: 'available',
      },
    ],
  },
});

export const ACTIONS: Record<string, ActionHandler> = {
  RunInstances,
  DescribeInstances,
  DeleteInstance,
  DeleteInstances,
  DescribeInstanceStatus,
  DescribeInstancesFullStatus,
  DescribeInstanceHistoryEvents,
  StopInstances,
  StartInstances,
  StopInstance,
  StartInstance,
  RebootInstance,
  DescribeZones,
  DescribeAvailableResource,
  DescribeInstanceTypes,
  DescribeRegions,
  DescribeUserData,
};
