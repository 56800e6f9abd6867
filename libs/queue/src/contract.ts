/** The one queue contract: queue names, job names and payloads. Payloads carry ids only. */
export const QUEUES = {
  lifecycle: 'lifecycle',
  webhooks: 'webhooks',
} as const;

export const JOBS = {
  provision: 'provision',
  retire: 'retire',
  launchStandby: 'launch-standby',
} as const;

export interface ProvisionPayload {
  validatorId: string;
}
export interface RetirePayload {
  validatorId: string;
}

export interface LaunchStandbyPayload {
  hostId: string;
}

export interface JobPayloads {
  [JOBS.provision]: ProvisionPayload;
  [JOBS.retire]: RetirePayload;
  [JOBS.launchStandby]: LaunchStandbyPayload;
}
export type JobName = keyof JobPayloads;

/** Deterministic job ids: a duplicate enqueue while the job exists is dropped by BullMQ. */
export function jobId(name: JobName, payload: JobPayloads[JobName], attempt = 0): string {
  const id = 'validatorId' in payload ? payload.validatorId : payload.hostId;
  return `${name}:${id}:${attempt}`;
}

/** Webhook deliveries (queue `webhooks`). The delivery row in Postgres is the truth; the job is a hint. */
export const WEBHOOK_JOBS = {
  deliver: 'deliver',
} as const;
export interface WebhookDeliverPayload {
  deliveryId: string;
}
export function webhookJobId(deliveryId: string, attempt: number): string {
  return `${WEBHOOK_JOBS.deliver}:${deliveryId}:${attempt}`;
}
