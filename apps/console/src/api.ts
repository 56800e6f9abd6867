// The console speaks only the public REST API, with the key from session storage (never the URL).
import {
  createSnowlineClient,
  type components,
  type SnowlineClient,
} from '../../../libs/api-client/src';

export type ValidatorState =
  | 'pending'
  | 'provisioning'
  | 'syncing'
  | 'active'
  | 'degraded'
  | 'failing_over'
  | 'retiring'
  | 'retired'
  | 'failed';

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

export interface Validator {
  id: string;
  name: string;
  network: string;
  state: ValidatorState;
  stateReason: string | null;
  nodeId: string | null;
  blsPublicKey: string | null;
  proofOfPossession: string | null;
  identitySource: 'imported' | 'generated' | null;
  instanceType: string;
  zones: string[];
  zone: string | null;
  instanceId: string | null;
  generation: number;
  labels: Record<string, string>;
  protected: boolean;
  createdAt: string;
  updatedAt: string;
  activeAt: string | null;
  retiredAt: string | null;
  /** When its current host's agent last reported; absent from API versions that do not say. */
  lastReportAt?: string | null;
  /** Its current host's verdict and the age of each observation; null when nothing runs it. */
  health?: {
    state: string;
    reason: string | null;
    healthSince: string | null;
    lastReportAt: string | null;
  } | null;
  /** The AvalancheGo version its spec asks for (absent from API versions before versions). */
  version?: string;
  /** What its current host's agent reports running; null: unknown. */
  runningVersion?: string | null;
  runningVersionObservedAt?: string | null;
  upgradePolicy?: 'manual' | 'before-deadline';
  /** Its network's next activation and whether it survives it (null: unknown). */
  nextUpgrade?: {
    network: string;
    name: string;
    activatesAt: string;
    minVersion: string;
    source: string;
    survives: boolean | null;
    warning: boolean;
    message: string | null;
  } | null;
}

/** `GET /v1/network-upgrades`: each network's next activation and who will not survive it. */
export interface NetworkUpgrades {
  items: {
    network: string;
    name: string;
    activatesAt: string;
    minVersion: string;
    source: string;
    warning: boolean;
    validatorsAtRisk: {
      id: string;
      name: string;
      version: string;
      runningVersion: string | null;
      cause: 'spec' | 'running';
      message: string;
    }[];
    validatorsUnknown: number;
  }[];
  warningDays: number;
  defaultVersions: Record<string, string>;
  releases: string[];
}

export type ZoneStatus = 'healthy' | 'impaired' | 'dark' | 'unknown';

export interface Zone {
  id: string;
  status: ZoneStatus;
  placementAllowed: boolean | null;
  reason: string | null;
  statusSince: string | null;
  hosts: number | null;
  unhealthyHosts: number | null;
  standbys: number | null;
  stock: Record<string, string>;
  validators: number;
  openIncidentId: string | null;
  lastObservedAt: string | null;
  observedAgeSeconds: number | null;
}

export interface Incident {
  id: string;
  zone: string | null;
  kind: string;
  severity: string;
  status: 'open' | 'closed';
  summary: string;
  affectedValidators: string[];
  openedAt: string;
  closedAt: string | null;
}

export interface SnowEvent {
  id: string;
  type: string;
  message: string;
  validatorId: string | null;
  hostId: string | null;
  zone: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
}

// Request bodies as the API declares them; the console builds them from forms and files.
export type CreateValidator = components['schemas']['CreateValidatorDto'];
export type CreatePlan = components['schemas']['CreatePlanDto'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Project {
  id: string;
  name: string;
  createdAt: string;
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

/** The body of a 2xx answer, or an ApiError with the problem+json detail the API wrote. */
export async function read<T>(call: Promise<Answer>): Promise<T> {
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
  return (r.data ?? null) as T;
}

/** Follows `nextCursor` up to `maxPages` pages; `truncated` says when there was more. */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<Answer>,
  maxPages = 20,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p: Page<T> = await read<Page<T>>(page(cursor));
    items.push(...p.items);
    cursor = p.nextCursor ?? undefined;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export type PlanActionKind = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

export interface PlanAction {
  action: PlanActionKind;
  name: string;
  validatorId: string | null;
  state: ValidatorState | null;
  reason: string;
  changes: { field: string; before: unknown; after: unknown; forcesReplacement?: boolean }[];
  drift: string | null;
  refused: string | null;
  unprotect: boolean;
  warnings: string[];
}

export interface PlanResult {
  name: string;
  action: PlanActionKind;
  validatorId: string | null;
  replacedValidatorId?: string | null;
  outcome: 'pending' | 'done' | 'failed';
  state?: string | null;
  detail?: string | null;
}

export interface Plan {
  id: string;
  mode: 'apply' | 'destroy';
  status: 'planned' | 'applying' | 'applied' | 'failed';
  serial: number;
  changes: boolean;
  summary: Record<'create' | 'update' | 'replace' | 'delete' | 'noop' | 'refused', number>;
  actions: PlanAction[];
  results: PlanResult[];
  createdAt: string;
  appliedAt: string | null;
  settledAt: string | null;
}

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';

/** One health check of a validator's current host, as `GET /v1/validators/:id/hosts` reports it. */
export interface HostCheck {
  name: string;
  label: string;
  status: CheckStatus;
  /** Null: not known now (never observed, or too old); `lastKnown` then holds the last value. */
  value: string | null;
  lastKnown: string | null;
  observedAt: string | null;
  /** Age at `checkedAt`, by the server's clock. */
  ageSeconds: number | null;
  staleAfterSeconds: number | null;
  detail: string;
}

export type HostTenure = 'current' | 'starting' | 'replaced' | 'retired' | 'ended';

export interface HostRecord {
  id: string;
  zone: string;
  instanceId: string | null;
  instanceType: string;
  role: 'assigned' | 'standby';
  generation: number | null;
  status: HostTenure;
  launchedAt: string;
  startedAt: string;
  registeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  deletedAt: string | null;
  fenced: boolean;
  lastVerdict: { state: string; reason: string | null; since: string | null };
  /** The AvalancheGo release it was launched with, and what its agent reports (null: unknown). */
  version?: string | null;
  runningVersion?: string | null;
}

export interface ValidatorHosts {
  validatorId: string;
  state: ValidatorState;
  generation: number;
  currentHostId: string | null;
  checkedAt: string;
  health: { hostId: string; zone: string; instanceId: string | null; checks: HostCheck[] } | null;
  items: HostRecord[];
  nextCursor: string | null;
}
