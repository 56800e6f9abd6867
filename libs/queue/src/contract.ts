/** The one queue contract: queue names, job names and payloads. Payloads carry ids only. */
export const QUEUES = {
  lifecycle: 'lifecycle',
} as const;

export const JOBS = {
  provision: 'provision',
  retire: 'retire',
} as const;

export interface ProvisionPayload {
  validatorId: string;
}
export interface RetirePayload {
  validatorId: string;
}

export interface JobPayloads {
  [JOBS.provision]: ProvisionPayload;
  [JOBS.retire]: RetirePayload;
}
export type JobName = keyof JobPayloads;

/** Deterministic job ids: a duplicate enqueue while the job exists is dropped by BullMQ. */
export function jobId(name: JobName, payload: JobPayloads[JobName], attempt = 0): string {
  return `${name}:${payload.validatorId}:${attempt}`;
}
