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

export interface ZoneInfo {
  zoneId: string;
  localName?: string;
}

export abstract class CloudProvider {
  /** Launches one instance; returns its id. Replaying the same clientToken returns the same id. */
  abstract launch(req: LaunchRequest): Promise<string>;
  /** Any number of ids; batched by the provider. Ids that no longer exist are absent. */
  abstract describe(instanceIds: string[]): Promise<CloudInstance[]>;
  abstract fullStatus(instanceIds: string[]): Promise<InstanceFullStatus[]>;
  /** Deletes (forcibly); ids already gone count as deleted. */
  abstract delete(instanceIds: string[]): Promise<void>;
  abstract stop(instanceIds: string[]): Promise<void>;
  abstract stock(instanceType?: string): Promise<StockHint[]>;
  abstract listByTag(key: string, value?: string): Promise<CloudInstance[]>;
  abstract zones(): Promise<ZoneInfo[]>;
}
