import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  MAX_POOL_SIZE,
  NETWORKS,
  poolSettingsOf,
  type PoolSetting,
  type StandbyPoolSizes,
} from '@snowline/domain';
import { Repositories, StandbyPoolRepository } from '@snowline/persistence';
import type { Principal } from '../auth/principal';
import { badRequest, operatorOnly } from '../common/problem';
import { ProjectsService } from '../projects/projects.service';

/** 403: pools are the deployment's, not a project's, so only the operator sets them. */
export const adminNeeded = (what: string) =>
  operatorOnly(what, 'standby pools are shared by the whole deployment');

/**
 * Standby pool sizes (network × zone → warm standbys): the operator's setting, stored in Postgres; the
 * worker's StandbyPoolService keeps these sizes, and STANDBY_POOL where the setting says nothing.
 */
@Injectable()
export class StandbyPoolsService {
  private readonly pools: StandbyPoolRepository;

  constructor(
    private readonly repos: Repositories,
    private readonly projects: ProjectsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.pools = repos.standbyPools;
  }

  get defaults(): Record<string, number> {
    return this.config.standbyPool;
  }

  settings(): Promise<PoolSetting[]> {
    return this.pools.list();
  }

  /**
   * The operator only: a tenant's own admin key manages its project, never the warm standbys every
   * tenant's failovers draw on (nor the cost they run up).
   */
  isOperator(p: Principal): Promise<boolean> {
    return this.projects.isOperator(p);
  }

  /** The setting as the operator sees it (operator only, like changing it). */
  async viewFor(p: Principal) {
    if (!(await this.isOperator(p))) throw adminNeeded('Reading the standby pools');
    return this.view();
  }

  async view() {
    const settings = await this.pools.list();
    const effective = await this.pools.effective(this.defaults, this.config.cloud.zones);
    return {
      defaults: this.defaults,
      zones: this.config.cloud.zones,
      settings: settings.map((s) => ({ ...s, updatedAt: s.updatedAt.toISOString() })),
      effective: Object.fromEntries(
        [...effective].map(([network, zones]) => [network, Object.fromEntries(zones)]),
      ),
    };
  }

  /** Checks a pools object (from the API or snowline.yaml); `at` prefixes each message's path. */
  validate(raw: unknown, at: string): StandbyPoolSizes {
    const isObj = (v: unknown): v is Record<string, unknown> =>
      typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObj(raw)) throw badRequest(`${at}: must be an object: network → zone → count.`);
    const out: StandbyPoolSizes = {};
    for (const [network, zones] of Object.entries(raw)) {
      if (!(NETWORKS as readonly string[]).includes(network))
        throw badRequest(`${at}.${network}: not a network; use one of ${NETWORKS.join(', ')}.`);
      if (!isObj(zones)) throw badRequest(`${at}.${network}: must be an object of zone → count.`);
      out[network] = {};
      for (const [zone, n] of Object.entries(zones)) {
        if (!this.config.cloud.zones.includes(zone))
          throw badRequest(
            `${at}.${network}.${zone}: zone not configured; use any of ${this.config.cloud.zones.join(', ')}.`,
          );
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_POOL_SIZE)
          throw badRequest(
            `${at}.${network}.${zone}: must be a whole number from 0 to ${MAX_POOL_SIZE}.`,
          );
        out[network][zone] = n;
      }
    }
    return out;
  }

  /** Replaces the setting (the operator only). */
  async put(p: Principal, sizes: StandbyPoolSizes, via = 'the API') {
    if (!(await this.isOperator(p))) throw adminNeeded('Changing the standby pools');
    const next = poolSettingsOf(sizes);
    const before = await this.pools.replace(next, `key ${p.keyId.slice(0, 8)}`);
    const was = new Map(before.map((s) => [`${s.network}/${s.zone}`, s.size]));
    const now = new Map(next.map((s) => [`${s.network}/${s.zone}`, s.size]));
    const keys = [...new Set([...was.keys(), ...now.keys()])].sort();
    const fmt = (k: string, m: Map<string, number>) => {
      const n = m.get(k);
      return n === undefined ? `default (${this.defaults[k.split('/')[0]!] ?? 0})` : String(n);
    };
    const changed = keys.filter((k) => was.get(k) !== now.get(k));
    if (changed.length)
      await this.repos.events.append({
        type: 'standby_pool.updated',
        message: `Standby pools set through ${via}: ${changed.map((k) => `${k} ${fmt(k, was)} → ${fmt(k, now)}`).join(', ')}`,
        projectId: p.projectId,
        data: { by: p.keyId, changes: changed },
      });
    return this.view();
  }
}
