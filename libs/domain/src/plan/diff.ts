import type { Network, ValidatorState } from '../validator-state';
import { judgeUpgrade, type NetworkUpgrade, type UpgradePolicy } from '../versions';
import type { DesiredValidator } from './spec';

export type PlanMode = 'apply' | 'destroy';
export const PLAN_ACTIONS = ['create', 'update', 'replace', 'delete', 'no-op'] as const;
export type PlanActionKind = (typeof PLAN_ACTIONS)[number];

/** A validator as the project holds it now (public fields only: no secret ever enters a plan). */
export interface CurrentValidator {
  id: string;
  name: string;
  network: Network;
  /** The L1 it validates; null or absent: the primary network. */
  subnetId?: string | null;
  instanceType: string;
  zones: string[];
  labels: Record<string, string>;
  protected: boolean;
  state: ValidatorState;
  stateReason: string | null;
  nodeId: string;
  identitySource: 'imported' | 'generated';
  /** When its desired spec last changed outside a Snowline plan (console or API): drift's cause. */
  changedOutsideAt?: string | null;
  /** False: made outside snowline.yaml (REST, console) and not adopted; absent reads as managed. */
  managed?: boolean;
  /** The AvalancheGo version its spec asks for (absent in snapshots from before versions). */
  version?: string;
  upgradePolicy?: UpgradePolicy;
  /** What its host reports running; null = unknown. */
  runningVersion?: string | null;
}

export type SpecField =
  | 'network'
  | 'subnetId'
  | 'instanceType'
  | 'identity'
  | 'zones'
  | 'labels'
  | 'protected'
  | 'version'
  | 'upgrade';

export interface FieldChange {
  field: SpecField;
  before: unknown;
  after: unknown;
  /** True when the change cannot be made in place. */
  forcesReplacement: boolean;
}

export interface PlanAction {
  action: PlanActionKind;
  name: string;
  /** The existing validator (update, replace, delete, no-op); null for create. */
  validatorId: string | null;
  state: ValidatorState | null;
  /** One line a human can act on. */
  reason: string;
  changes: FieldChange[];
  /** What changed behind the file's back, and how, when that is why this action exists. */
  drift: string | null;
  /** Why apply will refuse this plan (prevent_destroy, a name still taken…). */
  refused: string | null;
  /** Protection is dropped first: the file no longer asks for prevent_destroy. */
  unprotect: boolean;
  warnings: string[];
  /** What the validator becomes (create, update, replace). */
  desired: DesiredValidator | null;
  /** Applying this plan adopts the validator (made outside the file): the file manages it after. */
  adopt?: boolean;
  /** The validator was made outside the file: left alone (no-op) or retired by `--prune` (delete). */
  unmanaged?: boolean;
}

export interface DiffInput {
  mode: PlanMode;
  desired: DesiredValidator[];
  /** Every validator of the project not yet retired (live, retiring and failed). */
  current: CurrentValidator[];
  /** The instance type a validator gets when the file names none. */
  defaultInstanceType: string;
  /** Names retired outside the file since the last plan was applied → when. */
  retiredOutside?: Record<string, string>;
  /** Unmanaged validators the file names that this plan adopts (`snowline import NAME`). */
  adopt?: string[];
  /** Retire unmanaged validators the file does not name (`snowline apply --prune`). */
  prune?: boolean;
  /** Network-upgrade deadlines: a validator the plan leaves on a version that will not survive is warned. */
  versions?: PlanVersions;
}

export interface PlanVersions {
  calendar: readonly NetworkUpgrade[];
  /** The version a validator gets when the file names none (per network). */
  defaultVersion: Record<Network, string>;
  now: number;
  /** Warn about activations this far ahead (UPGRADE_WARNING_DAYS). */
  windowMs: number;
}

const SPEC_LABEL: Record<SpecField, string> = {
  network: 'network',
  subnetId: 'subnet_id',
  instanceType: 'instance type',
  identity: 'identity',
  zones: 'zones',
  labels: 'labels',
  protected: 'prevent_destroy',
  version: 'avalanchego',
  upgrade: 'upgrade',
};

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');
const sameLabels = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
};

/** Picks the validator a name refers to: the live one, else the newest failed or retiring one. */
function byName(current: CurrentValidator[]): Map<string, CurrentValidator> {
  const rank = (v: CurrentValidator) => (v.state === 'failed' ? 0 : v.state === 'retiring' ? 1 : 2);
  const map = new Map<string, CurrentValidator>();
  for (const v of current) {
    const seen = map.get(v.name);
    if (!seen || rank(v) > rank(seen)) map.set(v.name, v);
  }
  return map;
}

/** The spec differences between what is and what the file wants. */
export function specChanges(
  cur: CurrentValidator,
  want: DesiredValidator,
  defaultInstanceType: string,
): FieldChange[] {
  const changes: FieldChange[] = [];
  if (cur.network !== want.network)
    changes.push({
      field: 'network',
      before: cur.network,
      after: want.network,
      forcesReplacement: true,
    });
  // An L1 validator's registration and its node's synced chains are its L1's: another L1 (or the
  // primary network) is another validator, so the change replaces it (the REST PATCH refuses it).
  const l1 = (id: string | null | undefined) => id ?? 'primary network';
  if (l1(cur.subnetId) !== l1(want.subnetId))
    changes.push({
      field: 'subnetId',
      before: l1(cur.subnetId),
      after: l1(want.subnetId),
      forcesReplacement: true,
    });
  const type = want.instanceType ?? defaultInstanceType;
  if (cur.instanceType !== type)
    changes.push({
      field: 'instanceType',
      before: cur.instanceType,
      after: type,
      forcesReplacement: true,
    });
  if (want.identity && want.identity.nodeId !== cur.nodeId)
    changes.push({
      field: 'identity',
      before: cur.nodeId,
      after: want.identity.nodeId,
      forcesReplacement: true,
    });
  const zones = want.zones ?? [];
  if (!sameSet(cur.zones, zones))
    changes.push({ field: 'zones', before: cur.zones, after: zones, forcesReplacement: false });
  const labels = want.labels ?? {};
  if (!sameLabels(cur.labels, labels))
    changes.push({ field: 'labels', before: cur.labels, after: labels, forcesReplacement: false });
  const prot = want.preventDestroy ?? false;
  if (cur.protected !== prot)
    changes.push({
      field: 'protected',
      before: cur.protected,
      after: prot,
      forcesReplacement: false,
    });
  // A file that names no version keeps the validator's: versions never change behind anyone's back.
  if (want.version !== undefined && cur.version !== undefined && want.version !== cur.version)
    changes.push({
      field: 'version',
      before: cur.version,
      after: want.version,
      forcesReplacement: false,
    });
  const policy = want.upgrade ?? 'manual';
  if (cur.upgradePolicy !== undefined && cur.upgradePolicy !== policy)
    changes.push({
      field: 'upgrade',
      before: cur.upgradePolicy,
      after: policy,
      forcesReplacement: false,
    });
  return changes;
}

/**
 * The warning for a validator this plan leaves (or puts) on a version that will not survive its
 * network's next activation within the window; null when it survives or what runs is unknown.
 */
export function deadlineWarning(
  want: DesiredValidator,
  cur: CurrentValidator | undefined,
  v: PlanVersions,
): string | null {
  const desiredVersion = want.version ?? cur?.version ?? v.defaultVersion[want.network];
  if (!desiredVersion) return null;
  const verdict = judgeUpgrade(
    {
      network: want.network,
      desiredVersion,
      // A replacement or a new validator runs what it asks for; an update keeps its host.
      runningVersion: cur && cur.network === want.network ? (cur.runningVersion ?? null) : null,
    },
    v.calendar,
    v.now,
    v.windowMs,
  );
  if (verdict.kind !== 'upgrade_required') return null;
  return `avalanchego ${verdict.cause === 'spec' ? desiredVersion : cur!.runningVersion} will not survive ${verdict.upgrade.name}: ${verdict.message}`;
}

function stateDrift(cur: CurrentValidator): string | null {
  const why = cur.stateReason ? `: ${cur.stateReason}` : '';
  if (cur.state === 'failed')
    return `failed${why} (its instance was lost or could not be launched)`;
  if (cur.state === 'failing_over') return `failing over${why}; Snowline is moving it`;
  if (cur.state === 'degraded') return `degraded${why}`;
  return null;
}

const base = (a: Partial<PlanAction> & Pick<PlanAction, 'action' | 'name' | 'reason'>) =>
  ({
    validatorId: null,
    state: null,
    changes: [],
    drift: null,
    refused: null,
    unprotect: false,
    warnings: [],
    desired: null,
    adopt: false,
    unmanaged: false,
    ...a,
  }) satisfies PlanAction;

/**
 * The plan: what to create, update in place, replace, delete or leave alone so the project matches the
 * file, each with a reason. Pure; the order is by name so the same inputs give the same plan.
 */
export function diffValidators(input: DiffInput): PlanAction[] {
  const current = byName(input.current);
  const desired = new Map(input.desired.map((d) => [d.name, d]));
  const names = [...new Set([...current.keys(), ...desired.keys()])].sort();
  const adopt = new Set(input.adopt ?? []);
  const out: PlanAction[] = [];
  for (const name of names) {
    const cur = current.get(name);
    const want = desired.get(name);
    if (cur && cur.managed === false) {
      const a = unmanagedAction(cur, want, input, adopt.has(name));
      if (a) out.push(a);
      continue;
    }
    if (input.mode === 'destroy') {
      if (cur && want) out.push(deleteAction(cur, want, 'destroy'));
      continue;
    }
    if (!cur && want) {
      const retiredAt = input.retiredOutside?.[name];
      out.push(
        base({
          action: 'create',
          name,
          reason: retiredAt
            ? `it was retired outside snowline.yaml at ${retiredAt}; create it again`
            : 'not in the project yet',
          drift: retiredAt ? `retired outside snowline.yaml at ${retiredAt}` : null,
          desired: want,
        }),
      );
    } else if (cur && !want) {
      out.push(deleteAction(cur, undefined, 'not in snowline.yaml'));
    } else if (cur && want) {
      out.push(changeAction(cur, want, input.defaultInstanceType));
    }
  }
  if (input.versions && input.mode === 'apply')
    for (const a of out) {
      const want = desired.get(a.name);
      if (!want || a.action === 'delete') continue;
      // A new validator (create, replace) runs what it asks for; an update keeps its host.
      const fresh = a.action === 'create' || a.action === 'replace';
      const w = deadlineWarning(want, fresh ? undefined : current.get(a.name), input.versions);
      if (w) a.warnings = [...a.warnings, w];
    }
  return out;
}

/**
 * A validator made outside the file: left alone unless the plan adopts it (the file names it and
 * `snowline import` asks) or `--prune` retires it. Never a second validator with its name.
 */
function unmanagedAction(
  cur: CurrentValidator,
  want: DesiredValidator | undefined,
  input: DiffInput,
  adopting: boolean,
): PlanAction | null {
  if (input.mode === 'destroy') return null;
  if (!want) {
    if (!input.prune) return null;
    const a = deleteAction(
      cur,
      undefined,
      'made outside snowline.yaml and not in it; --prune retires it',
    );
    return { ...a, unmanaged: true };
  }
  const common = { name: cur.name, validatorId: cur.id, state: cur.state };
  if (!adopting)
    return base({
      ...common,
      action: 'no-op',
      unmanaged: true,
      changes: specChanges(cur, want, input.defaultInstanceType),
      reason: `made outside snowline.yaml, so the file leaves it alone; \`snowline import ${cur.name}\` adopts it (no second validator is created)`,
    });
  if (cur.state === 'retiring')
    return base({
      ...common,
      action: 'no-op',
      unmanaged: true,
      reason: 'made outside snowline.yaml and already retiring; nothing to adopt',
      refused: `${cur.name} is retiring; plan again once it is retired to create it from the file`,
    });
  const a = changeAction(cur, want, input.defaultInstanceType);
  if (a.action === 'replace') {
    const fields = a.changes.filter((c) => c.forcesReplacement).map((c) => SPEC_LABEL[c.field]);
    return {
      ...a,
      action: 'no-op',
      unmanaged: true,
      warnings: [],
      unprotect: false,
      reason: `made outside snowline.yaml; adopting it needs the file to match what cannot change in place`,
      refused: `${cur.name} cannot be adopted: its ${fields.join(', ') || 'state'} differ${fields.length === 1 ? 's' : ''} from snowline.yaml${cur.state === 'failed' ? ' (or it failed)' : ''}; make the file match it, or retire it first`,
    };
  }
  return {
    ...a,
    adopt: true,
    reason: `adopt: made outside snowline.yaml; from this apply on the file manages it${a.action === 'update' ? `; ${a.reason}` : ''}`,
  };
}

function deleteAction(
  cur: CurrentValidator,
  want: DesiredValidator | undefined,
  why: string,
): PlanAction {
  const common = { name: cur.name, validatorId: cur.id, state: cur.state };
  if (cur.state === 'retiring')
    return base({ ...common, action: 'no-op', reason: 'already retiring' });
  let refused: string | null = null;
  let unprotect = false;
  if (cur.protected) {
    if (!want)
      refused = `${cur.name} is protected (prevent_destroy); set prevent_destroy: false on it and apply before removing it`;
    else if (want.preventDestroy)
      refused = `${cur.name} has prevent_destroy: true in snowline.yaml; remove it (or set false) to destroy`;
    else unprotect = true;
  }
  const warnings =
    cur.state === 'active' || cur.state === 'degraded'
      ? [`${cur.nodeId} stops validating; its stake does not move anywhere`]
      : [];
  return base({
    ...common,
    action: 'delete',
    reason: unprotect
      ? `${why}; prevent_destroy was removed, so its protection is dropped first`
      : why,
    drift: stateDrift(cur),
    refused,
    unprotect,
    warnings,
  });
}

function changeAction(
  cur: CurrentValidator,
  want: DesiredValidator,
  defaultInstanceType: string,
): PlanAction {
  const changes = specChanges(cur, want, defaultInstanceType);
  const forced = changes.filter((c) => c.forcesReplacement);
  const common = { name: cur.name, validatorId: cur.id, state: cur.state, changes, desired: want };
  if (cur.state === 'retiring') {
    return base({
      ...common,
      action: 'create',
      validatorId: null,
      reason: 'it is being retired outside snowline.yaml; create it again',
      drift: 'retiring: deleted outside snowline.yaml',
      refused: `a validator named ${cur.name} is still retiring; plan again once it is retired`,
      changes: [],
    });
  }
  if (forced.length || cur.state === 'failed') {
    const reasons = forced.map(
      (c) => `${SPEC_LABEL[c.field]} cannot change in place (${fmt(c.before)} → ${fmt(c.after)})`,
    );
    if (cur.state === 'failed')
      reasons.unshift(
        `it failed${cur.stateReason ? ` (${cur.stateReason})` : ''} and Snowline does not retry a failed validator by itself`,
      );
    const warnings: string[] = [];
    const keepsIdentity = want.identity?.nodeId === cur.nodeId;
    if (!want.identity && cur.identitySource === 'generated')
      warnings.push(
        `the replacement gets a new NodeID; ${cur.nodeId} and its stake do not move with it`,
      );
    let refused: string | null = null;
    if (cur.protected && want.preventDestroy)
      refused = `${cur.name} has prevent_destroy: true; replacing it would destroy it`;
    else if (keepsIdentity)
      refused = `${cur.name} would be replaced with the identity it holds (${cur.nodeId}); retire it first (remove it from the file and apply), then add it back`;
    return base({
      ...common,
      action: 'replace',
      reason: reasons.join('; '),
      drift: stateDrift(cur),
      refused,
      unprotect: cur.protected && !want.preventDestroy,
      warnings,
    });
  }
  const drift =
    changes.length && cur.changedOutsideAt
      ? `changed outside snowline.yaml at ${cur.changedOutsideAt} (console or API)`
      : stateDrift(cur);
  if (!changes.length)
    return base({ ...common, action: 'no-op', reason: 'matches snowline.yaml', drift });
  const version = changes.find((c) => c.field === 'version');
  return base({
    ...common,
    action: 'update',
    // A new version is rolled: the identity moves onto a standby that runs it (RolloutLoop).
    reason: `update in place: ${changes
      .map((c) =>
        c === version
          ? `avalanchego ${fmt(c.before)} → ${fmt(c.after)} (rolling, via standby)`
          : SPEC_LABEL[c.field],
      )
      .join(', ')}`,
    drift,
  });
}

/** A short rendering of a field value for reasons. */
export function fmt(v: unknown): string {
  if (Array.isArray(v)) return v.length ? `[${v.join(', ')}]` : 'any';
  if (v && typeof v === 'object')
    return (
      Object.entries(v as Record<string, string>)
        .map(([k, x]) => `${k}=${x}`)
        .join(', ') || '{}'
    );
  return String(v);
}

export interface PlanSummary {
  create: number;
  update: number;
  replace: number;
  delete: number;
  noop: number;
  refused: number;
  /** Validators this plan adopts (absent in plans made before adoption existed). */
  adopt?: number;
}

export function summarize(actions: PlanAction[]): PlanSummary {
  const s: PlanSummary = {
    create: 0,
    update: 0,
    replace: 0,
    delete: 0,
    noop: 0,
    refused: 0,
    adopt: 0,
  };
  for (const a of actions) {
    if (a.adopt) s.adopt!++;
    if (a.action === 'no-op') s.noop++;
    else s[a.action]++;
    if (a.refused) s.refused++;
  }
  return s;
}

export const hasChanges = (actions: PlanAction[]) =>
  actions.some((a) => a.action !== 'no-op' || a.adopt);

/** A validator of the project that the file does not manage and this plan leaves alone. */
export interface UnmanagedValidator {
  id: string;
  name: string;
  state: ValidatorState;
  nodeId: string;
  /** The file names it: `snowline import NAME` adopts it. */
  named: boolean;
}

/** The validators made outside the file that a plan neither adopts nor retires. */
export function unmanagedValidators(
  current: CurrentValidator[],
  actions: PlanAction[],
): UnmanagedValidator[] {
  const touched = new Set(
    actions.filter((a) => a.adopt || a.action === 'delete').map((a) => a.validatorId),
  );
  const named = new Set(actions.filter((a) => a.unmanaged).map((a) => a.validatorId));
  return current
    .filter((v) => v.managed === false && v.state !== 'retiring' && !touched.has(v.id))
    .map((v) => ({
      id: v.id,
      name: v.name,
      state: v.state,
      nodeId: v.nodeId,
      named: named.has(v.id),
    }));
}

/**
 * What changed in the project between two snapshots (the one a plan was computed against and now):
 * the body of a "stale plan" refusal.
 */
export function describeStateChanges(
  before: CurrentValidator[],
  after: CurrentValidator[],
): string[] {
  const was = new Map(before.map((v) => [v.id, v]));
  const now = new Map(after.map((v) => [v.id, v]));
  const lines: string[] = [];
  for (const v of after) {
    const old = was.get(v.id);
    if (!old) {
      lines.push(`${v.name}: created`);
      continue;
    }
    if (v.state === 'retiring' && old.state !== 'retiring') lines.push(`${v.name}: deleted`);
    const fields: string[] = [];
    if (old.name !== v.name) fields.push(`name ${old.name} → ${v.name}`);
    const changes = specChanges(
      old,
      {
        name: v.name,
        network: v.network,
        instanceType: v.instanceType,
        zones: v.zones,
        labels: v.labels,
        preventDestroy: v.protected,
        identity: { nodeId: v.nodeId },
        ...(v.version !== undefined ? { version: v.version } : {}),
        ...(v.upgradePolicy !== undefined ? { upgrade: v.upgradePolicy } : {}),
      },
      v.instanceType,
    );
    for (const c of changes)
      fields.push(`${SPEC_LABEL[c.field]} ${fmt(c.before)} → ${fmt(c.after)}`);
    if (fields.length) lines.push(`${v.name}: ${fields.join('; ')}`);
  }
  for (const v of before) if (!now.has(v.id)) lines.push(`${v.name}: retired`);
  return lines.sort();
}
