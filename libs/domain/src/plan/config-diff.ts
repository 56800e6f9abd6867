import type { PlanMode } from './diff';
import type { DesiredWebhook, StandbyPoolSizes } from './spec';

/**
 * The parts of a plan beyond validators: webhooks (per project) and standby pools (per deployment).
 * Pure, like diffValidators: the same inputs give the same actions, ordered by name.
 */

/** A webhook of the project that a snowline file created (public fields only; never the secret). */
export interface CurrentWebhook {
  id: string;
  /** The file's name for it (the `config_name` column). */
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  description: string;
  /** Which environment variable its secret came from, and the secret_version it was set at. */
  secretEnv: string | null;
  secretVersion: number;
  /** Set when it was changed outside a plan (console or API) since the last apply: drift's cause. */
  changedOutsideAt?: string | null;
}

/** A webhook the file does not manage: made in the console or API. Listed, never touched. */
export interface UnmanagedWebhook {
  id: string;
  url: string;
  description: string;
}

export type WebhookField = 'url' | 'events' | 'enabled' | 'description' | 'secretVersion';

export interface WebhookChange {
  field: WebhookField;
  before: unknown;
  after: unknown;
}

export type WebhookActionKind = 'create' | 'update' | 'delete' | 'no-op';

export interface WebhookAction {
  action: WebhookActionKind;
  name: string;
  /** The existing webhook (update, delete, no-op); null for create. */
  webhookId: string | null;
  reason: string;
  changes: WebhookChange[];
  drift: string | null;
  warnings: string[];
  /** What it becomes (create, update). */
  desired: DesiredWebhook | null;
  /** Apply needs the signing secret from `desired.secretEnv` (create, rotation). */
  needsSecret: boolean;
}

export interface WebhookDiffInput {
  mode: PlanMode;
  desired: DesiredWebhook[];
  current: CurrentWebhook[];
  /** Webhooks made outside the file (to warn when one already targets a URL the file adds). */
  unmanaged?: UnmanagedWebhook[];
  /** Names the file manages that were deleted outside it since the last apply → when. */
  deletedOutside?: Record<string, string>;
}

const WEBHOOK_LABEL: Record<WebhookField, string> = {
  url: 'url',
  events: 'events',
  enabled: 'enabled',
  description: 'description',
  secretVersion: 'secret_version',
};

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

export function webhookChanges(cur: CurrentWebhook, want: DesiredWebhook): WebhookChange[] {
  const out: WebhookChange[] = [];
  if (cur.url !== want.url) out.push({ field: 'url', before: cur.url, after: want.url });
  const events = want.events ?? [];
  if (!sameSet(cur.events, events))
    out.push({ field: 'events', before: cur.events, after: events });
  const enabled = want.enabled ?? true;
  if (cur.enabled !== enabled) out.push({ field: 'enabled', before: cur.enabled, after: enabled });
  const description = want.description ?? '';
  if (cur.description !== description)
    out.push({ field: 'description', before: cur.description, after: description });
  const version = want.secretVersion ?? 1;
  if (cur.secretVersion !== version)
    out.push({ field: 'secretVersion', before: cur.secretVersion, after: version });
  return out;
}

const wh = (
  a: Partial<WebhookAction> & Pick<WebhookAction, 'action' | 'name' | 'reason'>,
): WebhookAction => ({
  webhookId: null,
  changes: [],
  drift: null,
  warnings: [],
  desired: null,
  needsSecret: false,
  ...a,
});

/** Webhooks to create, update in place, delete or leave, so the project's managed ones match the file. */
export function diffWebhooks(input: WebhookDiffInput): WebhookAction[] {
  const current = new Map(input.current.map((w) => [w.name, w]));
  const desired = new Map(input.desired.map((w) => [w.name, w]));
  const names = [...new Set([...current.keys(), ...desired.keys()])].sort();
  const out: WebhookAction[] = [];
  for (const name of names) {
    const cur = current.get(name);
    const want = desired.get(name);
    if (input.mode === 'destroy') {
      if (cur && want)
        out.push(wh({ action: 'delete', name, webhookId: cur.id, reason: 'destroy' }));
      continue;
    }
    if (!cur && want) {
      const deletedAt = input.deletedOutside?.[name];
      const twins = (input.unmanaged ?? []).filter((u) => u.url === want.url);
      out.push(
        wh({
          action: 'create',
          name,
          reason: deletedAt
            ? `it was deleted outside snowline.yaml at ${deletedAt}; create it again`
            : 'not in the project yet',
          drift: deletedAt ? `deleted outside snowline.yaml at ${deletedAt}` : null,
          warnings: twins.map(
            (u) =>
              `webhook ${u.id} (made outside snowline.yaml) already posts to ${u.url}; the receiver will get each event twice unless you delete one`,
          ),
          desired: want,
          needsSecret: true,
        }),
      );
    } else if (cur && !want) {
      out.push(wh({ action: 'delete', name, webhookId: cur.id, reason: 'not in snowline.yaml' }));
    } else if (cur && want) {
      const changes = webhookChanges(cur, want);
      const warnings: string[] = [];
      const rotates = changes.some((c) => c.field === 'secretVersion');
      if (!rotates && cur.secretEnv && cur.secretEnv !== want.secretEnv)
        warnings.push(
          `secret_env changed (${cur.secretEnv} → ${want.secretEnv}) but secret_version did not: the webhook keeps its secret; raise secret_version to rotate it to $${want.secretEnv}`,
        );
      const drift =
        changes.length && cur.changedOutsideAt
          ? `changed outside snowline.yaml at ${cur.changedOutsideAt} (console or API)`
          : null;
      out.push(
        changes.length
          ? wh({
              action: 'update',
              name,
              webhookId: cur.id,
              reason: `update in place: ${changes.map((c) => WEBHOOK_LABEL[c.field]).join(', ')}${rotates ? ` (the signing secret rotates to $${want.secretEnv})` : ''}`,
              changes,
              drift,
              warnings,
              desired: want,
              needsSecret: rotates,
            })
          : wh({
              action: 'no-op',
              name,
              webhookId: cur.id,
              reason: 'matches snowline.yaml',
              warnings,
              desired: want,
            }),
      );
    }
  }
  return out;
}

/** One stored pool size (a row of the admin setting). */
export interface PoolSetting {
  network: string;
  zone: string;
  size: number;
}

export interface PoolAction {
  action: 'update' | 'no-op';
  network: string;
  zone: string;
  /** The size the worker keeps now, and after apply. */
  before: number;
  after: number;
  /** Whether that size comes from the stored setting or the STANDBY_POOL default. */
  beforeSource: 'setting' | 'default';
  afterSource: 'setting' | 'default';
  reason: string;
}

export interface PoolDiffInput {
  desired: StandbyPoolSizes;
  settings: PoolSetting[];
  /** STANDBY_POOL: network → standbys per zone when no setting says otherwise. */
  defaults: Record<string, number>;
}

const standbys = (n: number) => `${n} standby${n === 1 ? '' : 's'}`;

/**
 * Standby pools: every (network, zone) the file names or the setting holds. The file is the whole
 * setting: a zone it leaves out goes back to the STANDBY_POOL default.
 */
export function diffStandbyPools(input: PoolDiffInput): PoolAction[] {
  const stored = new Map(input.settings.map((s) => [`${s.network}/${s.zone}`, s.size]));
  const wanted = new Map<string, number>();
  for (const [network, zones] of Object.entries(input.desired))
    for (const [zone, n] of Object.entries(zones)) wanted.set(`${network}/${zone}`, n);
  const keys = [...new Set([...stored.keys(), ...wanted.keys()])].sort();
  return keys.map((key) => {
    const [network, zone] = key.split('/') as [string, string];
    const fallback = input.defaults[network] ?? 0;
    const has = stored.get(key);
    const want = wanted.get(key);
    const before = has ?? fallback;
    const after = want ?? fallback;
    const common = {
      network,
      zone,
      before,
      after,
      beforeSource: has === undefined ? ('default' as const) : ('setting' as const),
      afterSource: want === undefined ? ('default' as const) : ('setting' as const),
    };
    if (has === want) return { ...common, action: 'no-op', reason: 'matches snowline.yaml' };
    let reason: string;
    if (want === undefined)
      reason = `not in snowline.yaml: back to the STANDBY_POOL default (${standbys(before)} → ${standbys(after)})`;
    else if (has === undefined && before === after)
      reason = `keep ${standbys(after)} as a setting (today the STANDBY_POOL default); a later change of STANDBY_POOL no longer moves it`;
    else
      reason = `${before < after ? 'grow' : 'shrink'} from ${standbys(before)}${has === undefined ? ' (STANDBY_POOL default)' : ''} to ${standbys(after)}${before > after ? '; surplus idle standbys are deleted' : ''}`;
    return { ...common, action: 'update', reason };
  });
}

/** The stored setting after apply: the file's sizes (what `PUT /v1/standby-pools` stores). */
export function poolSettingsOf(desired: StandbyPoolSizes): PoolSetting[] {
  return Object.entries(desired)
    .flatMap(([network, zones]) =>
      Object.entries(zones).map(([zone, size]) => ({ network, zone, size })),
    )
    .sort((a, b) => `${a.network}/${a.zone}`.localeCompare(`${b.network}/${b.zone}`));
}

export interface ConfigSummary {
  webhooks: { create: number; update: number; delete: number; noop: number };
  standbyPools: { update: number; noop: number };
}

export function summarizeConfig(webhooks: WebhookAction[], pools: PoolAction[]): ConfigSummary {
  const w = { create: 0, update: 0, delete: 0, noop: 0 };
  for (const a of webhooks) {
    if (a.action === 'no-op') w.noop++;
    else w[a.action]++;
  }
  const p = { update: 0, noop: 0 };
  for (const a of pools) {
    if (a.action === 'no-op') p.noop++;
    else p.update++;
  }
  return { webhooks: w, standbyPools: p };
}

export const configHasChanges = (webhooks: WebhookAction[], pools: PoolAction[]) =>
  webhooks.some((a) => a.action !== 'no-op') || pools.some((a) => a.action !== 'no-op');

/**
 * Why a plan's webhook/pool actions no longer hold (the stale check beside the validator serial):
 * the same diff recomputed now must give the same actions on the same rows.
 */
export function describeConfigDrift(
  planned: { webhooks: WebhookAction[]; pools: PoolAction[] },
  now: { webhooks: WebhookAction[]; pools: PoolAction[] },
): string[] {
  // Field by field: a plan read back from jsonb has its object keys in another order.
  const key = (a: WebhookAction) =>
    JSON.stringify([
      a.action,
      a.webhookId,
      a.changes.map((c) => [c.field, c.before, c.after]),
      a.desired?.secretEnv ?? null,
    ]);
  const lines: string[] = [];
  const nowW = new Map(now.webhooks.map((a) => [a.name, a]));
  for (const a of planned.webhooks) {
    const b = nowW.get(a.name);
    if (!b) lines.push(`webhook ${a.name}: gone`);
    else if (key(a) !== key(b))
      lines.push(`webhook ${a.name}: changed since the plan (now: ${b.action}, ${b.reason})`);
  }
  for (const b of now.webhooks)
    if (!planned.webhooks.some((a) => a.name === b.name))
      lines.push(`webhook ${b.name}: created since the plan`);
  const pk = (a: PoolAction) => `${a.network}/${a.zone}`;
  const nowP = new Map(now.pools.map((a) => [pk(a), a]));
  for (const a of planned.pools) {
    const b = nowP.get(pk(a));
    if (!b || b.before !== a.before || b.beforeSource !== a.beforeSource)
      lines.push(
        `standby pool ${pk(a)}: now ${b ? `${b.before} (${b.beforeSource})` : 'gone'}, planned from ${a.before} (${a.beforeSource})`,
      );
  }
  for (const b of now.pools)
    if (!planned.pools.some((a) => pk(a) === pk(b)))
      lines.push(`standby pool ${pk(b)}: set since the plan (${b.before})`);
  return lines.sort();
}
