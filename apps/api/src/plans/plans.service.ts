import { Inject, Injectable, Logger } from '@nestjs/common';
import { nodeIdFromCertPem } from '@snowline/avalanche';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  configHasChanges,
  describeConfigDrift,
  describeStateChanges,
  diffStandbyPools,
  diffValidators,
  diffWebhooks,
  hasChanges,
  MAX_WEBHOOK_SECRET,
  MIN_WEBHOOK_SECRET,
  summarize,
  summarizeConfig,
  type CurrentValidator,
  type CurrentWebhook,
  type DesiredValidator,
  type DesiredWebhook,
  type PlanAction,
  type PlanMode,
  type PlanSummary,
  type PoolAction,
  type StandbyPoolSizes,
  type WebhookAction,
  unmanagedValidators,
} from '@snowline/domain';
import {
  DeclarativeRepository,
  PlanRepository,
  Repositories,
  type Tx,
  type PlanConfigActions,
  type PlanEntity,
} from '@snowline/persistence';
import { hasScope, type Principal } from '../auth/principal';
import { badRequest, conflict, notFound, Problem } from '../common/problem';
import type { IdentityImport } from '../identities/identity.service';
import { adminNeeded, StandbyPoolsService } from '../standby-pools/standby-pools.service';
import { validateLabels } from '../validators/labels';
import { InstanceTypesService } from '../validators/instance-types.service';
import { ValidatorsService } from '../validators/validators.service';
import { checkSubnetId } from '../validators/subnet-id';
import { VersionsService } from '../versions/versions.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import type { ApplyPlanDto, CreatePlanDto, DesiredWebhookDto } from './dto/plan.dto';

/** What happened to one action of an applied plan, and whether its validator has settled. */
export interface ActionResult {
  /** What the action was on (absent: a validator, as plans before webhooks and pools had). */
  kind?: 'validator' | 'webhook' | 'standby_pool';
  name: string;
  action: PlanAction['action'];
  /** The validator the action produced or acted on. */
  validatorId: string | null;
  /** For replace: the validator that was retired. */
  replacedValidatorId?: string | null;
  /** For a webhook action: the webhook. */
  webhookId?: string | null;
  /** The plan adopted this validator (made outside the file): the file manages it now. */
  adopted?: boolean;
  outcome: 'pending' | 'done' | 'failed';
  state?: string | null;
  detail?: string | null;
  /** An update that changes the AvalancheGo version: done once its host runs this one (rolled). */
  rollingTo?: string | null;
}

const SETTLED_OK: Record<string, string[]> = {
  create: ['active'],
  replace: ['active'],
  delete: ['retired'],
};

@Injectable()
export class PlansService {
  private readonly log = new Logger(PlansService.name);
  private readonly plans: PlanRepository;
  private readonly declarative: DeclarativeRepository;

  constructor(
    private readonly repos: Repositories,
    private readonly validators: ValidatorsService,
    private readonly webhooks: WebhooksService,
    private readonly pools: StandbyPoolsService,
    private readonly instanceTypes: InstanceTypesService,
    private readonly versions: VersionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.plans = repos.plans;
    this.declarative = repos.declarative;
  }

  /** Computes a plan against the project's current state serial and stores it (no secret in it). */
  async create(p: Principal, dto: CreatePlanDto) {
    const mode: PlanMode = dto.mode ?? 'apply';
    const desired = this.desired(dto);
    const adopt = [...new Set(dto.adopt ?? [])];
    const named = new Set(desired.map((d) => d.name));
    for (const n of adopt)
      if (!named.has(n))
        throw badRequest(
          `adopt: ${n} is not in the file; add it to snowline.yaml (matching the validator) before importing it.`,
        );
    // A plan over webhooks shows their URLs (and those of webhooks the file does not name).
    if (dto.webhooks && !hasScope(p.scopes, 'webhooks:read'))
      throw new Problem(
        403,
        'Forbidden',
        'This plan covers webhooks, which shows their URLs: the API key needs the `webhooks:read` scope (or `webhooks:write`). Plan without `webhooks` to plan validators only.',
      );
    const desiredWebhooks = dto.webhooks ? await this.desiredWebhooks(dto.webhooks) : null;
    const desiredPools =
      dto.standbyPools !== undefined ? this.pools.validate(dto.standbyPools, 'standbyPools') : null;
    const { serial, current, lastApplied } = await this.plans.transaction(
      async (tx) => ({
        serial: await this.plans.serial(p.projectId, tx),
        current: await this.snapshot(p.projectId, tx),
        lastApplied: await this.plans.lastAppliedAt(p.projectId, tx),
      }),
      'REPEATABLE READ',
    );
    let retiredOutside: Record<string, string> = {};
    if (lastApplied) {
      const changed = await this.plans.changedSince(p.projectId, lastApplied);
      for (const v of current) v.changedOutsideAt = changed.get(v.id)?.toISOString() ?? null;
      const live = new Set(current.map((v) => v.name));
      const missing = desired.map((d) => d.name).filter((n) => !live.has(n));
      const retired = await this.plans.retiredSince(p.projectId, missing, lastApplied);
      retiredOutside = Object.fromEntries([...retired].map(([n, at]) => [n, at.toISOString()]));
    }
    const actions = diffValidators({
      mode,
      desired,
      current,
      defaultInstanceType: this.config.cloud.defaultInstanceType,
      retiredOutside,
      adopt,
      prune: dto.prune ?? false,
      versions: {
        calendar: this.config.avalanchego.calendar,
        defaultVersion: this.config.avalanchego.defaultVersion,
        now: Date.now(),
        windowMs: this.config.avalanchego.warningDays * 86_400_000,
      },
    });
    await this.checkInstanceTypes(actions);
    const extras = await this.configActions(p.projectId, mode, desiredWebhooks, desiredPools, {
      lastApplied,
    });
    if (extras.poolActions?.some((a) => a.action !== 'no-op') && !(await this.pools.isOperator(p)))
      throw adminNeeded('This plan changes standby_pools, which');
    const plan = await this.plans.transaction(async (tx) => {
      const row = await this.plans.insert(
        {
          projectId: p.projectId,
          mode,
          serial: String(serial),
          status: 'planned',
          desired,
          snapshot: current.map(({ changedOutsideAt: _, ...v }) => v),
          actions,
          summary: { ...summarize(actions) },
          results: [],
          createdBy: p.keyId,
        },
        tx,
      );
      if (extras.webhookActions || extras.poolActions)
        await this.declarative.savePlanConfig(row.id, extras, tx);
      return row;
    });
    return this.view(plan, p, extras);
  }

  /**
   * The webhook and standby-pool actions of a plan (null where the request did not plan them).
   * Also used at apply, with the plan's own desired state, to see whether they still hold.
   */
  private async configActions(
    projectId: string,
    mode: PlanMode,
    desiredWebhooks: DesiredWebhook[] | null,
    desiredPools: StandbyPoolSizes | null,
    opts: { lastApplied: Date | null },
  ): Promise<PlanConfigActions> {
    let webhookActions: WebhookAction[] | null = null;
    let unmanagedWebhooks: PlanConfigActions['unmanagedWebhooks'] = [];
    if (desiredWebhooks) {
      const { managed, unmanaged } = await this.declarative.webhooks(projectId);
      const current: CurrentWebhook[] = managed.map(({ updatedAt, ...w }) => ({
        ...w,
        changedOutsideAt:
          opts.lastApplied && updatedAt > opts.lastApplied ? updatedAt.toISOString() : null,
      }));
      let deletedOutside: Record<string, string> = {};
      if (opts.lastApplied) {
        const live = new Set(managed.map((w) => w.name));
        const missing = desiredWebhooks.map((d) => d.name).filter((n) => !live.has(n));
        const gone = await this.declarative.webhooksDeletedSince(
          projectId,
          missing,
          opts.lastApplied,
        );
        deletedOutside = Object.fromEntries([...gone].map(([n, at]) => [n, at.toISOString()]));
      }
      webhookActions = diffWebhooks({
        mode,
        desired: desiredWebhooks,
        current,
        unmanaged,
        deletedOutside,
      });
      unmanagedWebhooks = unmanaged;
    }
    let poolActions: PoolAction[] | null = null;
    if (desiredPools && mode === 'apply')
      poolActions = diffStandbyPools({
        desired: desiredPools,
        settings: await this.pools.settings(),
        defaults: this.pools.defaults,
      });
    return { webhookActions, poolActions, unmanagedWebhooks };
  }

  /** The desired webhooks, each URL checked as the webhook API checks it (scheme, SSRF). */
  private async desiredWebhooks(list: DesiredWebhookDto[]): Promise<DesiredWebhook[]> {
    const seen = new Set<string>();
    const out: DesiredWebhook[] = [];
    for (const [i, w] of list.entries()) {
      if (seen.has(w.name)) throw badRequest(`webhooks[${i}].name: "${w.name}" appears twice.`);
      seen.add(w.name);
      let url: string;
      try {
        url = await this.webhooks.checkUrl(w.url);
      } catch (err) {
        if (err instanceof Problem) throw badRequest(`webhooks.${w.name}.${err.detail}`);
        throw err;
      }
      const d: DesiredWebhook = { name: w.name, url, secretEnv: w.secretEnv };
      if (w.events !== undefined) d.events = [...new Set(w.events)];
      if (w.enabled !== undefined) d.enabled = w.enabled;
      if (w.description !== undefined) d.description = w.description;
      if (w.secretVersion !== undefined) d.secretVersion = w.secretVersion;
      out.push(d);
    }
    return out;
  }

  async get(p: Principal, id: string) {
    const plan = await this.find(p.projectId, id);
    return this.view(await this.settle(plan), p);
  }

  /** The plan's desired webhooks and pools, as recorded in its actions (for the stale check). */
  private plannedConfig(c: PlanConfigActions) {
    const webhooks = c.webhookActions && c.webhookActions.flatMap((a) => a.desired ?? []);
    const pools: StandbyPoolSizes | null = c.poolActions && {};
    for (const a of c.poolActions ?? [])
      if (a.afterSource === 'setting') (pools![a.network] ??= {})[a.zone] = a.after;
    return { webhooks, pools };
  }

  /** The project's apply lock, after letting a settled holder go. */
  async lock(projectId: string) {
    const lock = await this.plans.lock(projectId);
    if (lock) {
      const holder = await this.plans.findById(lock.planId);
      if (holder) await this.settle(holder);
    }
    const now = await this.plans.lock(projectId);
    if (!now) throw new Problem(404, 'Not Found', 'The project is not locked.');
    return this.lockView(now);
  }

  /** `force-unlock`: releases the lock held by `planId` (quote it, so a lock taken since is kept). */
  async forceUnlock(p: Principal, planId: string) {
    const lock = await this.plans.lock(p.projectId);
    if (!lock) throw new Problem(404, 'Not Found', 'The project is not locked.');
    if (lock.planId !== planId)
      throw conflict(
        `The lock is held by plan ${lock.planId}, not ${planId}; nothing was unlocked.`,
        { lock: this.lockView(lock) },
      );
    await this.plans.unlock(p.projectId, planId);
    await this.repos.events.append({
      type: 'plan.force_unlocked',
      message: `Apply lock of plan ${planId} (held by ${lock.holder} since ${lock.since.toISOString()}) force-unlocked`,
      projectId: p.projectId,
      data: { planId, holder: lock.holder, by: p.keyId },
    });
    return { unlocked: true as const, planId };
  }

  /**
   * Applies a plan: refuses a refused action, a missing identity, a held lock or a stale serial before
   * changing anything; then runs each action and keeps the lock until every validator has settled.
   */
  async apply(p: Principal, id: string, dto: ApplyPlanDto) {
    const plan = await this.find(p.projectId, id);
    if (plan.status !== 'planned')
      throw conflict(
        `Plan ${plan.id} was already applied (it is ${plan.status}); run \`snowline plan\` again.`,
        { code: 'plan_used', status: plan.status },
      );
    const actions = plan.actions as PlanAction[];
    const refused = actions.filter((a) => a.refused);
    if (refused.length)
      throw conflict(
        `This plan cannot be applied: ${refused.map((a) => `${a.action} ${a.name}: ${a.refused}`).join('; ')}.`,
        { code: 'refused', refusals: refused.map((a) => ({ name: a.name, reason: a.refused })) },
      );
    const identities = this.identities(actions, dto.identities);
    // Again at apply: the catalog may have changed since the plan, and a replace retires first.
    await this.checkInstanceTypes(actions);
    const extras = await this.declarative.planConfig(plan.id);
    if (extras.poolActions?.some((a) => a.action !== 'no-op') && !(await this.pools.isOperator(p)))
      throw adminNeeded('Applying a plan that changes standby_pools');
    if (
      extras.webhookActions?.some((a) => a.action !== 'no-op') &&
      !hasScope(p.scopes, 'webhooks:write')
    )
      throw new Problem(
        403,
        'Forbidden',
        'This plan creates, changes or deletes webhooks: applying it needs the `webhooks:write` scope.',
      );
    const secrets = this.webhookSecrets(extras.webhookActions ?? [], dto.webhookSecrets);
    const holder = `${dto.holder?.trim() || 'api'} (key ${p.keyId.slice(0, 8)})`;

    let locked = await this.plans.tryLock(p.projectId, plan.id, holder);
    if (!locked) {
      const lock = await this.plans.lock(p.projectId);
      const other = lock && (await this.plans.findById(lock.planId));
      if (other) await this.settle(other);
      locked = await this.plans.tryLock(p.projectId, plan.id, holder);
    }
    if (!locked) {
      const lock = await this.plans.lock(p.projectId);
      throw conflict(
        lock
          ? `The project is locked by ${lock.holder} since ${lock.since.toISOString()} (plan ${lock.planId}); wait for it to settle, or run \`snowline force-unlock ${lock.planId}\` if that apply is gone.`
          : 'The project was locked a moment ago; try again.',
        { code: 'locked', lock: lock ? this.lockView(lock) : null },
      );
    }
    try {
      const serial = await this.plans.serial(p.projectId);
      if (serial !== Number(plan.serial)) {
        const changes = describeStateChanges(
          plan.snapshot as CurrentValidator[],
          await this.snapshot(p.projectId),
        );
        throw conflict(
          `Plan ${plan.id} is stale: it was computed against state serial ${plan.serial}, the project is at ${serial}. What changed: ${changes.join('; ') || 'validators changed'}. Run \`snowline plan\` again.`,
          { code: 'stale_plan', planSerial: Number(plan.serial), serial, changes },
        );
      }
      if (extras.webhookActions || extras.poolActions) {
        const planned = this.plannedConfig(extras);
        const now = await this.configActions(
          p.projectId,
          plan.mode,
          planned.webhooks,
          planned.pools,
          { lastApplied: null },
        );
        const changes = describeConfigDrift(
          { webhooks: extras.webhookActions ?? [], pools: extras.poolActions ?? [] },
          { webhooks: now.webhookActions ?? [], pools: now.poolActions ?? [] },
        );
        if (changes.length)
          throw conflict(
            `Plan ${plan.id} is stale: ${changes.join('; ')}. Run \`snowline plan\` again.`,
            { code: 'stale_plan', changes },
          );
      }
      if (
        !(await this.plans.transition(plan.id, 'planned', {
          status: 'applying',
          appliedBy: p.keyId,
        }))
      )
        throw conflict(`Plan ${plan.id} is already being applied.`, { code: 'plan_used' });
    } catch (err) {
      await this.plans.unlock(p.projectId, plan.id);
      throw err;
    }
    await this.repos.events.append({
      type: 'plan.applying',
      message: `Applying plan ${plan.id} (${summaryText(plan.summary)}) by ${holder}`,
      projectId: p.projectId,
      data: { planId: plan.id, summary: plan.summary },
    });
    const results: ActionResult[] = [];
    // Webhooks first, so a webhook this plan creates already hears about the validators it launches.
    for (const a of extras.webhookActions ?? []) {
      if (a.action === 'no-op') continue;
      results.push(await this.runWebhook(p.projectId, a, secrets.get(a.name)));
    }
    const poolChanges = (extras.poolActions ?? []).filter((a) => a.action !== 'no-op');
    if (poolChanges.length) results.push(...(await this.runPools(p, extras.poolActions!)));
    if (results.length) await this.plans.update(plan.id, { results });
    for (const a of actions) {
      if (a.action === 'no-op' && !a.adopt) continue;
      results.push(await this.run(p.projectId, a, identities.get(a.name)));
      await this.plans.update(plan.id, { results });
    }
    await this.plans.update(plan.id, { results, appliedAt: new Date() });
    const done = await this.plans.findById(plan.id);
    return this.view(await this.settle(done!), p);
  }

  private async run(
    projectId: string,
    a: PlanAction,
    identity: IdentityImport | undefined,
  ): Promise<ActionResult> {
    const r: ActionResult = {
      name: a.name,
      action: a.action,
      validatorId: a.validatorId,
      outcome: 'pending',
    };
    const want = a.desired;
    try {
      if (a.adopt) {
        if (!(await this.plans.adopt(projectId, a.validatorId!)))
          throw new Error(`${a.name} is gone; nothing was adopted`);
        r.adopted = true;
        r.outcome = 'done';
      }
      switch (a.action) {
        case 'update':
          await this.validators.update(projectId, a.validatorId!, {
            labels: want!.labels ?? {},
            zones: want!.zones ?? [],
            protected: want!.preventDestroy ?? false,
            upgrade: want!.upgrade ?? 'manual',
            // A file that names no version keeps the validator's.
            ...(want!.version !== undefined ? { version: want!.version } : {}),
          });
          // A version change is done when the rolling upgrade has moved it: the apply follows it.
          if (a.changes.some((c) => c.field === 'version') && want!.version !== undefined) {
            r.rollingTo = want!.version;
          } else r.outcome = 'done';
          break;
        case 'delete':
          if (a.unprotect)
            await this.validators.update(projectId, a.validatorId!, { protected: false });
          await this.validators.retire(projectId, a.validatorId!);
          break;
        case 'replace': {
          // The old one keeps its name until retired; rename it so the new one can take the name.
          const old = a.validatorId!;
          await this.validators.update(projectId, old, {
            name: `${a.name.slice(0, 50)}-old-${old.slice(0, 6)}`,
            ...(a.unprotect ? { protected: false } : {}),
          });
          await this.validators.retire(projectId, old);
          r.replacedValidatorId = old;
          r.validatorId = (await this.createValidator(projectId, want!, identity)).id;
          break;
        }
        case 'create':
          r.validatorId = (await this.createValidator(projectId, want!, identity)).id;
          break;
        default:
          break;
      }
    } catch (err) {
      r.outcome = 'failed';
      r.detail = err instanceof Error ? err.message : String(err);
      this.log.warn({ name: a.name, action: a.action, err: r.detail }, 'plan action failed');
    }
    return r;
  }

  private async runWebhook(
    projectId: string,
    a: WebhookAction,
    secret: string | undefined,
  ): Promise<ActionResult> {
    const r: ActionResult = {
      kind: 'webhook',
      name: a.name,
      action: a.action,
      validatorId: null,
      webhookId: a.webhookId,
      outcome: 'done',
    };
    const want = a.desired;
    const fields = want && {
      url: want.url,
      eventTypes: want.events ?? [],
      enabled: want.enabled ?? true,
      description: want.description ?? '',
    };
    try {
      if (a.action === 'create')
        r.webhookId = (
          await this.webhooks.createManaged(
            projectId,
            {
              ...fields!,
              name: a.name,
              secretEnv: want!.secretEnv,
              secretVersion: want!.secretVersion ?? 1,
            },
            secret!,
          )
        ).id;
      else if (a.action === 'update')
        await this.webhooks.updateManaged(
          projectId,
          a.webhookId!,
          fields!,
          a.needsSecret
            ? {
                secret: secret!,
                secretEnv: want!.secretEnv,
                secretVersion: want!.secretVersion ?? 1,
              }
            : undefined,
        );
      else if (a.action === 'delete') await this.webhooks.remove(projectId, a.webhookId!);
    } catch (err) {
      r.outcome = 'failed';
      r.detail = err instanceof Error ? err.message : String(err);
      this.log.warn({ name: a.name, action: a.action, err: r.detail }, 'webhook action failed');
    }
    return r;
  }

  /** One PUT of the whole pool setting; one result per (network, zone) it changes. */
  private async runPools(p: Principal, pools: PoolAction[]): Promise<ActionResult[]> {
    const sizes: StandbyPoolSizes = {};
    for (const a of pools)
      if (a.afterSource === 'setting') (sizes[a.network] ??= {})[a.zone] = a.after;
    let detail: string | null = null;
    try {
      await this.pools.put(p, sizes, 'a snowline plan');
    } catch (err) {
      detail = err instanceof Error ? err.message : String(err);
      this.log.warn({ err: detail }, 'standby pool update failed');
    }
    return pools
      .filter((a) => a.action !== 'no-op')
      .map((a) => ({
        kind: 'standby_pool' as const,
        name: `${a.network}/${a.zone}`,
        action: a.action,
        validatorId: null,
        outcome: detail ? ('failed' as const) : ('done' as const),
        detail,
      }));
  }

  /** The secrets apply needs (webhooks created or rotated), each checked; nothing else accepted. */
  private webhookSecrets(actions: WebhookAction[], raw: Record<string, unknown> | undefined) {
    const needed = new Map(
      actions.filter((a) => a.needsSecret && a.desired).map((a) => [a.name, a.desired!.secretEnv]),
    );
    for (const name of Object.keys(raw ?? {}))
      if (!needed.has(name))
        throw badRequest(
          `webhookSecrets.${name}: this plan neither creates nor rotates webhook ${name}; send no secret for it.`,
        );
    const out = new Map<string, string>();
    for (const [name, env] of needed) {
      const v = raw?.[name];
      // Never echo the value: only its length and shape.
      if (
        typeof v !== 'string' ||
        v.length < MIN_WEBHOOK_SECRET ||
        v.length > MAX_WEBHOOK_SECRET ||
        !/^[\x21-\x7e]+$/.test(v)
      )
        throw badRequest(
          `webhookSecrets.${name}: send the signing secret from $${env}: ${MIN_WEBHOOK_SECRET}–${MAX_WEBHOOK_SECRET} printable characters without spaces (e.g. \`whsec_$(openssl rand -base64 32)\`, a Standard Webhooks secret).`,
        );
      out.set(name, v);
    }
    return out;
  }

  /** Each validator the plan would launch (create, replace) checked as POST /v1/validators checks it. */
  private async checkInstanceTypes(actions: PlanAction[]): Promise<void> {
    for (const a of actions) {
      if ((a.action !== 'create' && a.action !== 'replace') || !a.desired) continue;
      await this.instanceTypes.check(
        a.desired.instanceType ?? this.config.cloud.defaultInstanceType,
        a.desired.zones ?? [],
        `validators.${a.name}.instanceType`,
      );
    }
  }

  private createValidator(projectId: string, d: DesiredValidator, identity?: IdentityImport) {
    return this.validators.create(
      projectId,
      {
        name: d.name,
        network: d.network,
        subnetId: d.subnetId,
        version: d.version,
        upgrade: d.upgrade,
        instanceType: d.instanceType,
        zones: d.zones,
        labels: d.labels,
        protected: d.preventDestroy ?? false,
        identity,
      },
      { managedByConfig: true },
    );
  }

  /**
   * Brings an applying plan's results up to date with its validators' states; once every one has
   * settled (active / retired / failed) the plan is applied or failed and its lock is released.
   */
  private async settle(plan: PlanEntity): Promise<PlanEntity> {
    if (plan.status !== 'applying' || !plan.appliedAt) return plan;
    const results = plan.results as ActionResult[];
    for (const r of results) {
      if (r.outcome !== 'pending' || !r.validatorId) continue;
      const v = await this.repos.validators.findById(r.validatorId);
      r.state = v?.state ?? null;
      if (v && r.rollingTo) {
        // Rolled: active on a host that runs it. Rolled back (or changed since): the spec no longer asks for it.
        const host = v.hostId ? await this.repos.hosts.findById(v.hostId) : null;
        if (v.state === 'active' && host?.runningVersion === r.rollingTo) r.outcome = 'done';
        else if (v.avalanchegoVersion !== r.rollingTo) {
          r.outcome = 'failed';
          r.detail = `the upgrade to ${r.rollingTo} did not complete: the validator now asks for ${v.avalanchegoVersion ?? 'the fleet default'} (a move whose node does not come up is rolled back; see its upgrade.rolled_back event)`;
        }
        if (r.outcome !== 'pending' || !['failed', 'retired'].includes(v.state)) continue;
      }
      if (v && SETTLED_OK[r.action]?.includes(v.state)) r.outcome = 'done';
      else if (!v || v.state === 'failed' || v.state === 'retired') {
        r.outcome = 'failed';
        r.detail = v?.stateReason ?? 'the validator is gone';
      }
    }
    const settled = results.every((r) => r.outcome !== 'pending');
    if (!settled) {
      await this.plans.update(plan.id, { results });
      return { ...plan, results };
    }
    const failed = results.some((r) => r.outcome === 'failed');
    const status = failed ? 'failed' : 'applied';
    const settledAt = new Date();
    if (await this.plans.transition(plan.id, 'applying', { results, status, settledAt })) {
      await this.plans.unlock(plan.projectId, plan.id);
      await this.repos.events.append({
        type: failed ? 'plan.failed' : 'plan.applied',
        message: `Plan ${plan.id} ${failed ? 'failed' : 'applied'}: ${results.map((r) => `${r.action} ${kindLabel(r.kind)}${r.name} ${r.outcome}`).join(', ')}`,
        projectId: plan.projectId,
        data: { planId: plan.id, results: results.map(({ detail: _, ...r }) => r) },
      });
    }
    return (await this.plans.findById(plan.id)) ?? plan;
  }

  /** The project's validators for a plan; a row from before versions reads as the fleet default. */
  private async snapshot(projectId: string, tx?: Tx): Promise<CurrentValidator[]> {
    const rows = await this.plans.snapshot(projectId, tx);
    for (const v of rows) v.version ??= this.config.avalanchego.defaultVersion[v.network];
    return rows;
  }

  /** The desired validators, checked like a validator create would check them. */
  private desired(dto: CreatePlanDto): DesiredValidator[] {
    const seen = new Set<string>();
    return dto.validators.map((v, i) => {
      if (seen.has(v.name)) throw badRequest(`validators[${i}].name: "${v.name}" appears twice.`);
      seen.add(v.name);
      const unknown = (v.zones ?? []).filter((z) => !this.config.cloud.zones.includes(z));
      if (unknown.length)
        throw badRequest(
          `validators.${v.name}.zones: ${unknown.join(', ')} not configured; use any of ${this.config.cloud.zones.join(', ')}.`,
        );
      const d: DesiredValidator = { name: v.name, network: v.network };
      const subnetId = checkSubnetId(v.subnetId, `validators.${v.name}.subnetId`);
      if (subnetId) d.subnetId = subnetId;
      if (v.version !== undefined)
        d.version = this.versions.resolve(v.network, v.version, `validators.${v.name}.version`);
      if (v.upgrade !== undefined)
        d.upgrade = this.versions.policy(v.upgrade, `validators.${v.name}.upgrade`);
      if (v.instanceType !== undefined) d.instanceType = v.instanceType;
      if (v.zones !== undefined) d.zones = [...new Set(v.zones)];
      if (v.labels !== undefined)
        d.labels = validateLabels(v.labels, `validators.${v.name}.labels`);
      if (v.preventDestroy !== undefined) d.preventDestroy = v.preventDestroy;
      if (v.identity) d.identity = { nodeId: v.identity.nodeId };
      return d;
    });
  }

  /** The key files for each create/replace that imports an identity, checked against its NodeID. */
  private identities(actions: PlanAction[], raw: Record<string, unknown> | undefined) {
    const out = new Map<string, IdentityImport>();
    const needed = new Map(
      actions
        .filter((a) => (a.action === 'create' || a.action === 'replace') && a.desired?.identity)
        .map((a) => [a.name, a.desired!.identity!.nodeId]),
    );
    for (const name of Object.keys(raw ?? {}))
      if (!needed.has(name))
        throw badRequest(`identities.${name}: this plan imports no identity for ${name}.`);
    for (const [name, nodeId] of needed) {
      const v = raw?.[name] as Record<string, unknown> | undefined;
      const ok =
        v &&
        typeof v === 'object' &&
        ['stakerCrt', 'stakerKey', 'signerKey'].every(
          (k) => typeof v[k] === 'string' && (v[k] as string).length <= 8192,
        );
      if (!ok)
        throw badRequest(
          `identities.${name}: send { stakerCrt, stakerKey, signerKey } for the identity ${nodeId} this plan imports.`,
        );
      let actual: string;
      try {
        actual = nodeIdFromCertPem(v.stakerCrt as string);
      } catch {
        throw badRequest(`identities.${name}.stakerCrt: not a staking certificate (PEM).`);
      }
      if (actual !== nodeId)
        throw badRequest(
          `identities.${name}: the certificate is ${actual}, but the plan imports ${nodeId}; plan again.`,
        );
      out.set(name, v as unknown as IdentityImport);
    }
    return out;
  }

  private async find(projectId: string, id: string): Promise<PlanEntity> {
    const plan = await this.plans.findForProject(projectId, id);
    if (!plan) throw notFound('Plan', id);
    return plan;
  }

  private lockView(lock: { planId: string; holder: string; since: Date }) {
    return { planId: lock.planId, holder: lock.holder, since: lock.since.toISOString() };
  }

  private async view(plan: PlanEntity, p: Principal, known?: PlanConfigActions) {
    const actions = plan.actions as PlanAction[];
    const extras = known ?? (await this.declarative.planConfig(plan.id));
    // Without `webhooks:read` a plan's webhooks (and their URLs) are not shown: `webhooks` reads as
    // "not planned", and `webhooksHidden` says why.
    const hidden = extras.webhookActions !== null && !hasScope(p.scopes, 'webhooks:read');
    if (hidden) extras.webhookActions = null;
    const webhooks = extras.webhookActions ?? [];
    const pools = extras.poolActions ?? [];
    return {
      id: plan.id,
      mode: plan.mode,
      status: plan.status,
      serial: Number(plan.serial),
      changes: hasChanges(actions) || configHasChanges(webhooks, pools),
      summary: plan.summary as unknown as PlanSummary, // summarize()'s, as stored
      actions,
      /** Validators made outside the file that this plan leaves alone (`--prune` retires them). */
      unmanagedValidators: unmanagedValidators(plan.snapshot as CurrentValidator[], actions),
      /** null: the request did not plan webhooks (or standby pools) at all. */
      webhooks: extras.webhookActions,
      unmanagedWebhooks: extras.webhookActions ? extras.unmanagedWebhooks : [],
      webhooksHidden: hidden,
      standbyPools: extras.poolActions,
      configSummary: summarizeConfig(webhooks, pools),
      results: plan.results as ActionResult[],
      createdAt: plan.createdAt.toISOString(),
      appliedAt: plan.appliedAt?.toISOString() ?? null,
      settledAt: plan.settledAt?.toISOString() ?? null,
    };
  }
}

const kindLabel = (k: ActionResult['kind']) =>
  k === 'webhook' ? 'webhook ' : k === 'standby_pool' ? 'standby pool ' : '';

function summaryText(s: Record<string, number>): string {
  return `${s.create ?? 0} to create, ${s.update ?? 0} to update, ${s.replace ?? 0} to replace, ${s.delete ?? 0} to delete`;
}
