import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { instanceTypeProblem, type OfferedInstanceType } from '@snowline/domain';
import { Repositories, type CatalogRow } from '@snowline/persistence';
import { badRequest } from '../common/problem';

/** A read catalog is reused this long: creates stay one query lighter, a refresh shows within it. */
const CACHE_MS = 15_000;

/**
 * Checks a spec's instanceType against the region's catalog, which the worker reads from the cloud
 * into the database (the API holds no cloud credentials), and against AvalancheGo's minimum hardware.
 * An empty catalog (the worker has not read it yet) refuses nothing: a launch is never blocked
 * because a loop had not run; RunInstances still refuses a type the region does not have.
 */
@Injectable()
export class InstanceTypesService {
  private readonly log = new Logger(InstanceTypesService.name);
  private cached: { rows: CatalogRow[]; at: number } | null = null;

  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Throws a 400 naming the valid types when `instanceType` cannot run a validator in `zones`. */
  async check(instanceType: string, zones: readonly string[], field = 'instanceType') {
    const candidates = zones.length ? zones : this.config.cloud.zones;
    const offered = offeredIn(await this.rows(), candidates);
    if (!offered.length) {
      this.log.warn(
        { instanceType, zones: candidates },
        'instance-type catalog not loaded for these zones yet; accepting the type unchecked',
      );
      return;
    }
    const where = `${candidates.length > 1 ? 'zones' : 'zone'} ${candidates.join(', ')}`;
    const problem = instanceTypeProblem(instanceType, offered, where, field);
    if (problem) throw badRequest(problem);
  }

  private async rows(): Promise<CatalogRow[]> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.rows;
    const rows = await this.repos.catalog.list(this.config.cloud.region);
    // An empty catalog is not kept: the worker's first read shows at once.
    this.cached = rows.length ? { rows, at: Date.now() } : null;
    return rows;
  }
}

/** The catalog over `zones`, one entry per type, with the zones that offer it. */
export function offeredIn(rows: readonly CatalogRow[], zones: readonly string[]) {
  const byType = new Map<string, OfferedInstanceType>();
  for (const r of rows) {
    if (!zones.includes(r.zoneId)) continue;
    const t = byType.get(r.instanceType);
    if (t) t.zones.push(r.zoneId);
    else
      byType.set(r.instanceType, {
        instanceType: r.instanceType,
        vcpu: r.vcpu,
        memoryGiB: r.memoryGiB,
        zones: [r.zoneId],
      });
  }
  return [...byType.values()];
}
