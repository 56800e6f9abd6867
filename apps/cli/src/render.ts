import { compareStakingRisk, type components, type StakingBlock } from '@snowline/api-client';
import { formatAvax } from '@snowline/domain';
import type { Style } from './style';

// The plan as the API returns it: the types its OpenAPI document declares (libs/api-client).
type Schemas = components['schemas'];
export type PlanBody = Schemas['PlanDto'];
export type ActionResultBody = Schemas['ActionResultDto'];
type PlanAction = Schemas['PlanActionDto'];
type FieldChange = Schemas['FieldChangeDto'];
type WebhookAction = Schemas['WebhookActionDto'];
type WebhookChange = Schemas['WebhookChangeDto'];

const SYMBOL: Record<PlanAction['action'], string> = {
  create: '+',
  update: '~',
  replace: '-/+',
  delete: '-',
  'no-op': '=',
};

const quote = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v));
const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(', ') : 'any');

/** One line per changed field; labels key by key. */
function changeLines(c: FieldChange): string[] {
  if (c.field === 'labels') {
    const before = c.before as Record<string, string>;
    const after = c.after as Record<string, string>;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      if (!(k in after)) return [`labels.${k}: ${quote(before[k])} → (removed)`];
      if (!(k in before)) return [`labels.${k}: (none) → ${quote(after[k])}`];
      return before[k] === after[k]
        ? []
        : [`labels.${k}: ${quote(before[k])} → ${quote(after[k])}`];
    });
  }
  const name =
    c.field === 'instanceType'
      ? 'instance_type'
      : c.field === 'subnetId'
        ? 'subnet_id'
        : c.field === 'protected'
          ? 'prevent_destroy'
          : c.field;
  const fmt = c.field === 'zones' ? list : String;
  const forces = c.forcesReplacement ? ' (forces replacement)' : '';
  return [`${name}: ${fmt(c.before)} → ${fmt(c.after)}${forces}`];
}

function createLines(a: PlanAction, defaultType?: string): string[] {
  const d = a.desired!;
  const lines = [`network: ${d.network}`];
  if (d.subnetId) lines.push(`subnet_id: ${d.subnetId} (an L1 validator)`);
  // Shown when the file names them (otherwise: the fleet default version, manual upgrades).
  if (d.version) lines.push(`version: ${d.version}`);
  if (d.upgrade) lines.push(`upgrade: ${d.upgrade}`);
  lines.push(
    `instance_type: ${d.instanceType ?? (defaultType ? `${defaultType} (default)` : '(default)')}`,
  );
  lines.push(`zones: ${list(d.zones)}`);
  const labels = Object.entries(d.labels ?? {});
  if (labels.length) lines.push(`labels: ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (d.preventDestroy) lines.push('prevent_destroy: true');
  lines.push(`identity: ${d.identity ? `import ${d.identity.nodeId}` : 'generated'}`);
  return lines;
}

const events = (v: unknown) => (Array.isArray(v) && v.length ? v.join(', ') : 'every event');

function webhookChangeLines(c: WebhookChange): string[] {
  if (c.field === 'events') return [`events: ${events(c.before)} → ${events(c.after)}`];
  if (c.field === 'secretVersion')
    return [`secret_version: ${String(c.before)} → ${String(c.after)}`];
  if (c.field === 'enabled') return [`enabled: ${String(c.before)} → ${String(c.after)}`];
  return [`${c.field}: ${quote(c.before)} → ${quote(c.after)}`];
}

function webhookLines(a: WebhookAction): string[] {
  if (a.action === 'create' && a.desired) {
    const d = a.desired;
    const lines = [`url: ${d.url}`, `events: ${events(d.events)}`];
    if (d.enabled === false) lines.push('enabled: false');
    if (d.description) lines.push(`description: ${quote(d.description)}`);
    lines.push(`secret: read from $${d.secretEnv} by the CLI at apply (never stored in a plan)`);
    return lines;
  }
  const lines = a.changes.flatMap(webhookChangeLines);
  if (a.needsSecret && a.desired)
    lines.push(`secret: rotates to the value of $${a.desired.secretEnv}, read at apply`);
  return lines;
}

const poolSize = (n: number, source: 'setting' | 'default') =>
  `${n}${source === 'default' ? ' (STANDBY_POOL default)' : ''}`;

/** The human plan. Pure: same plan, same text (golden-tested with colour off). */
export function renderPlan(plan: PlanBody, s: Style, opts: { file?: string } = {}): string {
  const out: string[] = [];
  const what = plan.mode === 'destroy' ? 'Destroy plan' : 'Plan';
  out.push(
    s.bold(
      `${what} ${plan.id.slice(0, 8)} against state serial ${plan.serial}${opts.file ? ` (${opts.file})` : ''}`,
    ),
  );
  out.push('');
  const colour: Record<PlanAction['action'], (x: string) => string> = {
    create: s.green,
    update: s.yellow,
    replace: s.magenta,
    delete: s.red,
    'no-op': s.dim,
  };
  // An unmanaged validator the plan leaves alone is listed below, not as an action.
  const shown = plan.actions.filter(
    (a) =>
      a.action === 'delete' ||
      a.adopt ||
      a.refused ||
      // A no-op is shown when it drifted or carries a warning (a version an activation leaves behind).
      (!a.unmanaged && (a.action !== 'no-op' || a.drift || a.warnings.length)),
  );
  for (const a of shown) {
    const kind = a.adopt && a.action === 'no-op' ? 'adopt' : a.action;
    const symbol = a.adopt && a.action === 'no-op' ? '<=' : SYMBOL[a.action];
    const head = `${symbol.padStart(3)} ${kind.padEnd(8)}${a.name}${a.state ? s.dim(`  (${a.state})`) : ''}`;
    out.push((a.adopt ? s.cyan : colour[a.action])(head));
    const detail: string[] = [];
    if (a.action === 'create' || (a.action === 'replace' && a.desired)) {
      if (a.action === 'create') detail.push(...createLines(a));
      else detail.push(...a.changes.flatMap(changeLines));
    } else detail.push(...a.changes.flatMap(changeLines));
    for (const d of detail) out.push(`        ${d}`);
    out.push(`        ${s.dim('why:')} ${a.reason}`);
    if (a.drift) out.push(`        ${s.yellow('drift:')} ${a.drift}`);
    for (const w of a.warnings) out.push(`        ${s.yellow('warning:')} ${w}`);
    if (a.refused) out.push(`        ${s.red('refused:')} ${a.refused}`);
    out.push('');
  }
  const unmanagedValidators = plan.unmanagedValidators ?? [];
  if (unmanagedValidators.length) {
    out.push(s.bold('Validators left alone (made outside snowline.yaml, not managed by it):'));
    for (const u of unmanagedValidators)
      out.push(
        `        ${u.name}${s.dim(`  (${u.state}, ${u.nodeId})`)}${u.named ? `  named in the file: \`snowline import ${u.name}\` adopts it` : ''}`,
      );
    out.push(`    ${s.dim('`snowline apply --prune` retires the ones the file does not name.')}`);
    out.push('');
  }
  const webhooks = plan.webhooks ?? [];
  const shownHooks = webhooks.filter((a) => a.action !== 'no-op' || a.drift || a.warnings.length);
  const unmanaged = plan.unmanagedWebhooks ?? [];
  if (shownHooks.length || unmanaged.length) {
    out.push(s.bold('Webhooks:'));
    for (const a of shownHooks) {
      out.push(colour[a.action](`${SYMBOL[a.action].padStart(3)} ${a.action.padEnd(8)}${a.name}`));
      for (const d of webhookLines(a)) out.push(`        ${d}`);
      out.push(`        ${s.dim('why:')} ${a.reason}`);
      if (a.drift) out.push(`        ${s.yellow('drift:')} ${a.drift}`);
      for (const w of a.warnings) out.push(`        ${s.yellow('warning:')} ${w}`);
      out.push('');
    }
    if (unmanaged.length) {
      out.push(`    ${s.dim('left alone (made outside snowline.yaml, not managed by it):')}`);
      for (const u of unmanaged)
        out.push(
          `        ${u.id.slice(0, 8)} ${u.url}${u.description ? `  (${u.description})` : ''}`,
        );
      out.push('');
    }
  }
  const pools = (plan.standbyPools ?? []).filter((a) => a.action !== 'no-op');
  if (pools.length) {
    out.push(s.bold('Standby pools (whole deployment):'));
    for (const a of pools) {
      out.push(
        colour[a.action](
          `${SYMBOL[a.action].padStart(3)} ${a.action.padEnd(8)}${a.network}/${a.zone}`,
        ),
      );
      out.push(
        `        standbys: ${poolSize(a.before, a.beforeSource)} → ${poolSize(a.after, a.afterSource)}`,
      );
      out.push(`        ${s.dim('why:')} ${a.reason}`);
      out.push('');
    }
  }
  const n = plan.summary;
  const c = plan.configSummary;
  const hookCount = webhooks.length;
  if (!plan.changes) {
    const hooks = plan.webhooks ? `, ${hookCount} webhook${hookCount === 1 ? '' : 's'}` : '';
    const poolCount = plan.standbyPools?.length ?? 0;
    const poolText = plan.standbyPools
      ? `, ${poolCount} standby pool${poolCount === 1 ? '' : 's'}`
      : '';
    out.push(
      `No changes. The project matches ${opts.file ?? 'the file'} (${n.noop} validator${n.noop === 1 ? '' : 's'}${hooks}${poolText}).`,
    );
  } else {
    const adopt = n.adopt ? `, ${n.adopt} to adopt` : '';
    out.push(
      s.bold(
        `Plan: ${n.create} to create, ${n.update} to update in place, ${n.replace} to replace, ${n.delete} to delete${adopt}; ${n.noop} unchanged.`,
      ),
    );
    if (c && plan.webhooks && c.webhooks.create + c.webhooks.update + c.webhooks.delete > 0)
      out.push(
        s.bold(
          `Webhooks: ${c.webhooks.create} to create, ${c.webhooks.update} to update, ${c.webhooks.delete} to delete; ${c.webhooks.noop} unchanged.`,
        ),
      );
    if (c && plan.standbyPools && c.standbyPools.update > 0)
      out.push(
        s.bold(
          `Standby pools: ${c.standbyPools.update} to update; ${c.standbyPools.noop} unchanged.`,
        ),
      );
    if (n.refused)
      out.push(
        s.red(
          `${n.refused} action${n.refused === 1 ? ' is' : 's are'} refused: this plan cannot be applied as it is.`,
        ),
      );
  }
  return out.join('\n') + '\n';
}

/** The end of an apply: one line per action with its outcome. */
export function renderResults(plan: PlanBody, s: Style): string {
  const lines = plan.results.map((r) => {
    const mark =
      r.outcome === 'done'
        ? s.green('ok')
        : r.outcome === 'failed'
          ? s.red('FAILED')
          : s.yellow('…');
    const extra = r.detail ? `: ${r.detail}` : r.state ? ` (${r.state})` : '';
    const kind =
      r.kind === 'webhook' ? 'webhook ' : r.kind === 'standby_pool' ? 'standby pool ' : '';
    const action = r.adopted ? (r.action === 'no-op' ? 'adopt' : `adopt+${r.action}`) : r.action;
    return `  ${mark.padEnd(s.enabled ? 15 : 6)} ${action} ${kind}${r.name}${extra}`;
  });
  const failed = plan.results.filter((r) => r.outcome === 'failed').length;
  const what = plan.mode === 'destroy' ? 'Destroy' : 'Apply';
  lines.push(
    failed
      ? s.red(`${what} failed: ${failed} of ${plan.results.length} action(s) failed.`)
      : s.green(`${what} complete: ${plan.results.length} action(s) settled.`),
  );
  return lines.join('\n') + '\n';
}

/** `4.8 h`, `35 min`, `50 s`: a duration as a person reads it. */
export function human(seconds: number): string {
  const a = Math.abs(seconds);
  if (a >= 48 * 3600) return `${+(seconds / 86_400).toFixed(1)} d`;
  if (a >= 3600) return `${+(seconds / 3600).toFixed(1)} h`;
  if (a >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}

const pct = (f: number) => `${+(f * 100).toFixed(2)} %`;

/** A validator as `snowline status` shows its staking (`staking` is absent from older APIs). */
export interface StakingRow {
  name: string;
  /** The L1 it validates; null or absent: the primary network. */
  subnetId?: string | null;
  staking?: StakingBlock | null;
}

/** nAVAX as AVAX, truncated to 4 decimals (libs/domain `formatAvax`). */
export const avax = formatAvax;

/** Days of fee, rounded down to a tenth: 13.99 is `13.9 d`, never `14 d` (the low mark). */
export function feeDays(days: number): string {
  // The epsilon only absorbs binary noise (the API sends 2 decimals: 13.9 may arrive as 13.8999…).
  return `${Math.floor(days * 10 + 1e-9) / 10} d`;
}

const isL1 = (r: StakingRow) => !!(r.subnetId || r.staking?.l1 || r.staking?.lastKnown?.l1);

type L1Tone = 'low' | 'inactive' | 'unknown' | null;

/**
 * The L1 BALANCE cell: balance, days of fee at the price, LOW under L1_BALANCE_LOW_DAYS,
 * `inactive` once spent. Stale or never seen: `unknown` with the age — never a 0 balance.
 */
function l1Cell(r: StakingRow): [string, L1Tone] {
  const k = r.staking;
  if (!isL1(r)) return ['-', null];
  if (!k) return ['unknown', 'unknown'];
  if (k.status === 'unknown')
    return [
      k.ageSeconds === null
        ? 'unknown (never observed)'
        : `unknown (last ${human(k.ageSeconds)} ago)`,
      'unknown',
    ];
  const l1 = k.l1;
  // Current but not listed by the L1 (not registered): no balance to show.
  if (!l1) return ['-', null];
  const money = avax(l1.balance);
  if (!l1.active) return [`${money}, inactive`, 'inactive'];
  const days = l1.daysLeft === null ? 'no fee charged' : feeDays(l1.daysLeft);
  return l1.low ? [`${money}, ${days} LOW`, 'low'] : [`${money}, ${days}`, null];
}

/**
 * `snowline status`'s staking table, least downtime budget left first, unknown apart: its status,
 * uptime as the network sees it (and whose), budget left, an L1 validator's fee balance (the column
 * only when the fleet has one), and the view's age. An unknown view says so with its age and what it
 * last said — no figure of it is shown as current.
 */
export function renderStaking(rows: StakingRow[], s: Style): string {
  if (!rows.length) return '';
  const sorted = [...rows].sort(
    (a, b) => compareStakingRisk(a.staking, b.staking) || a.name.localeCompare(b.name),
  );
  const paint: Record<string, (x: string) => string> = {
    at_risk: s.yellow,
    lost: s.red,
    unknown: s.dim,
  };
  const cells = sorted.map((r) => {
    const k = r.staking;
    if (!k) return [r.name, 'unknown', '-', '-', 'not reported by this API'];
    const age = k.ageSeconds === null ? null : `${human(k.ageSeconds)} ago`;
    if (k.status === 'unknown')
      return [
        r.name,
        'unknown',
        '-',
        '-',
        age === null
          ? 'never observed'
          : `last seen ${age}${k.lastKnown ? ` (then ${k.lastKnown.status.replace('_', ' ')})` : ''}`,
      ];
    const uptime = k.uptime
      ? `${pct(k.uptime.value)} ${k.uptime.source === 'peer' ? `(${k.uptime.observers} peer${k.uptime.observers === 1 ? '' : 's'})` : '(own node)'}`
      : '-';
    const b = k.budget;
    const left = !b
      ? '-'
      : b.leftSeconds < 0
        ? `none, ${human(-b.leftSeconds)} over its ${human(b.totalSeconds)}`
        : `${human(b.leftSeconds)} of ${human(b.totalSeconds)}${b.leftFraction === null ? '' : ` (${Math.floor(b.leftFraction * 100)} %)`}`;
    const req = k.requirement ? `, ≥ ${pct(k.requirement.value)}` : '';
    return [
      r.name,
      k.status.replace('_', ' '),
      `${uptime}${uptime === '-' ? '' : req}`,
      left,
      age ?? '-',
    ];
  });
  const l1 = sorted.map(l1Cell);
  const withL1 = sorted.some(isL1);
  const L1_COL = 4;
  const head = ['NAME', 'STAKING', 'UPTIME', 'BUDGET LEFT', 'AS OF'];
  if (withL1) {
    head.splice(L1_COL, 0, 'L1 BALANCE');
    cells.forEach((c, i) => c.splice(L1_COL, 0, l1[i]![0]));
  }
  const l1Paint: Record<Exclude<L1Tone, null>, (x: string) => string> = {
    low: s.yellow,
    inactive: s.red,
    unknown: s.dim,
  };
  const all = [head, ...cells];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r, row) =>
    r
      .map((c, i) => {
        const padded = c.padEnd(widths[i]!);
        // Colour after padding, so escapes do not skew the columns.
        if (!row) return padded;
        const status = sorted[row - 1]!.staking?.status ?? 'unknown';
        if (i === 1 && paint[status]) return paint[status]!(padded);
        const tone = l1[row - 1]![1];
        if (withL1 && i === L1_COL && tone) return l1Paint[tone](padded);
        return padded;
      })
      .join('  ')
      .trimEnd(),
  );
  return `Staking (least downtime budget left first):\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
