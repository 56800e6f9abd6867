// The console speaks only the public REST API, with the key from session storage (never the URL).
import {
  createSnowlineClient,
  type components,
  type SnowlineClient,
} from '../../../libs/api-client/src';

/** The API's response and request bodies, as its OpenAPI document declares them (libs/api-client). */
type Schemas = components['schemas'];

/** The fleet's order by staking risk, shared with the CLI (`snowline status`). */
export { compareStakingRisk } from '../../../libs/api-client/src';

export type Validator = Schemas['ValidatorDto'];
export type ValidatorState = Validator['state'];
export const VALIDATOR_STATES: ValidatorState[] = [
  'pending',
  'provisioning',
  'syncing',
  'active',
  'degraded',
  'failing_over',
  'retiring',
  'retired',
  'failed',
];
export const NETWORKS = ['fuji', 'mainnet', 'local'] as const;

/** `GET /v1/network-upgrades`: each network's next activation and who will not survive it. */
export type NetworkUpgrades = Schemas['NetworkUpgradesDto'];
export type Zone = Schemas['ZoneDto'];
export type ZoneStatus = Zone['status'];
export type Incident = Schemas['IncidentDto'];
export type SnowEvent = Schemas['EventDto'];
export type Project = Schemas['ProjectDto'];

// Request bodies as the API declares them; the console builds them from forms and files.
export type CreateValidator = Schemas['CreateValidatorDto'];
export type CreatePlan = Schemas['CreatePlanDto'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A problem+json answer (or a network failure), with the detail the API wrote for humans. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly requestId?: string,
    /** The whole problem+json body, for answers that carry more (a 409's `code`, `changes`…). */
    readonly problem: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const KEY = 'snowline.apiKey';
const PROJECT = 'snowline.project';

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  project: (): string | null => sessionStorage.getItem(PROJECT),
  signIn(key: string, project: string) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(PROJECT, project);
    window.dispatchEvent(new Event('snowline:session'));
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(PROJECT);
    window.dispatchEvent(new Event('snowline:session'));
  },
};

/**
 * The API, typed by its OpenAPI document (libs/api-client, from `npm run openapi:generate`): a
 * renamed path, parameter or body field fails `tsc`. The key is the session's, added per request.
 */
export const client: SnowlineClient = createSnowlineClient(location.origin);
client.use({
  onRequest({ request }) {
    const key = session.key();
    if (key && !request.headers.has('authorization'))
      request.headers.set('authorization', `Bearer ${key}`);
    request.headers.set('accept', 'application/json');
    return request;
  },
  async onResponse({ request, response }) {
    // A revoked or unknown session key ends the session; the sign-in page says why.
    const key = session.key();
    if (response.status !== 401 || !key || request.headers.get('authorization') !== `Bearer ${key}`)
      return response;
    const p = (await response
      .clone()
      .json()
      .catch(() => ({}))) as { detail?: string };
    sessionStorage.setItem('snowline.signOutReason', p.detail ?? 'The API answered 401.');
    session.signOut();
    return response;
  },
});

/** Request options that send `key` instead of the session's (signing in); a 401 then signs no one out. */
export const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

type Answer = { data?: unknown; error?: unknown; response: Response };

/** What an answer holds on success: the body type the API's document declares for the call. */
export type Body<A extends Answer> = NonNullable<A['data']>;

/**
 * The body of a 2xx answer, typed by the call's route (no type argument to keep in step), or an
 * ApiError with the problem+json detail the API wrote.
 */
export async function read<A extends Answer>(call: Promise<A>): Promise<Body<A>> {
  let r: Answer;
  try {
    r = await call;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Network error', 'The Snowline API did not answer. Is it running?');
  }
  const res = r.response;
  if (!res.ok) {
    const body = typeof r.error === 'object' && r.error !== null ? r.error : {};
    const p = body as { title?: string; detail?: string; requestId?: string };
    const err = new ApiError(
      res.status,
      p.title ?? res.statusText,
      p.detail ?? `The API answered ${res.status}.`,
      p.requestId ?? res.headers.get('x-request-id') ?? undefined,
      body as Record<string, unknown>,
    );
    throw err;
  }
  return (r.data ?? null) as Body<A>;
}

/** Follows `nextCursor` up to `maxPages` pages; `truncated` says when there was more. */
export async function allPages<A extends Answer & { data?: Page<unknown> }>(
  page: (cursor: string | undefined) => Promise<A>,
  maxPages = 20,
): Promise<{ items: Body<A>['items']; truncated: boolean }> {
  const items: Body<A>['items'] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p = await read(page(cursor));
    items.push(...p.items);
    cursor = p.nextCursor ?? undefined;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export type Plan = Schemas['PlanDto'];
export type PlanAction = Schemas['PlanActionDto'];
export type PlanActionKind = PlanAction['action'];
export type PlanResult = Schemas['ActionResultDto'];

/** `GET /v1/validators/:id/hosts`: its hosts, newest first, and the current one's health checks. */
export type ValidatorHosts = Schemas['ValidatorHostsDto'];
export type HostRecord = Schemas['HostRecordDto'];
export type HostTenure = HostRecord['status'];
export type HostCheck = Schemas['HostCheckDto'];
export type CheckStatus = HostCheck['status'];
