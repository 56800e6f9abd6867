import type { Stack } from './stack';

/** Short clocks so an e2e runs in seconds; suites add or override what they test. */
export const FAST_CLOCKS = {
  LEASE_TTL_SECONDS: '6',
  LEASE_RENEW_SECONDS: '1',
  CLOCK_SKEW_MARGIN_SECONDS: '1',
  SWEEP_INTERVAL_SECONDS: '1',
  FAILOVER_GRACE_SECONDS: '1',
  RECONCILE_INTERVAL_SECONDS: '3',
  SIM_BOOTSTRAP_SECONDS: '1',
  SIM_TIME_SCALE: '0.3',
};

/** The fields of `GET /v1/validators/:id` the e2e suites read. */
export interface ValidatorView {
  id: string;
  name: string;
  state: string;
  zone: string | null;
  instanceId: string | null;
  nodeId: string;
  generation: number;
}

export interface EventView {
  type: string;
  message: string;
  createdAt: string;
  data?: Record<string, unknown> | null;
}

export const getValidator = async (stack: Stack, id: string) =>
  (await (await stack.api(`/v1/validators/${id}`)).json()) as ValidatorView;

/** The validator's events, oldest first (up to 100). */
export const validatorEvents = async (stack: Stack, id: string) =>
  (
    (await (await stack.api(`/v1/validators/${id}/events?limit=100`)).json()) as {
      items: EventView[];
    }
  ).items;

/** Injects a simulator fault; throws unless the simulator took it. Returns its id. */
export async function injectFault(stack: Stack, body: object): Promise<string> {
  const res = await fetch(`${stack.simUrl}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201)
    throw new Error(`fault ${JSON.stringify(body)}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}
