import { Inject, Injectable } from '@nestjs/common';
import { CloudProvider } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';

export interface CatalogStats {
  /** Rows (zone × instance type) now in the catalog. */
  rows: number;
  types: number;
}

/** After a failed read, try again this soon rather than a whole refresh interval later. */
const RETRY_MS = 30_000;

/**
 * Reads the region's instance-type catalog from the cloud (DescribeAvailableResource for what each
 * zone offers, DescribeInstanceTypes for sizes) into the database, at start and every
 * CATALOG_REFRESH_SECONDS; the API checks a spec's instanceType against it, so the API never needs
 * cloud credentials. A failed read keeps the previous catalog.
 */
@Injectable()
export class CatalogRefreshLoop extends LeaderLoop<CatalogStats> {
  private lastFailed = false;

  constructor(
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'catalog-refresh', config.leaderLeaseSeconds * 1000);
  }

  protected intervalMs(): number {
    const every = this.config.catalogRefreshSeconds * 1000;
    return this.lastFailed ? Math.min(every, RETRY_MS) : every;
  }

  protected async round(): Promise<CatalogStats> {
    this.lastFailed = true;
    const entries = await this.cloud.catalog();
    await this.repos.catalog.replace(this.config.cloud.region, entries, await this.repos.clock());
    this.lastFailed = false;
    const types = new Set(entries.map((e) => e.instanceType)).size;
    this.log.log({ rows: entries.length, types }, 'instance-type catalog refreshed');
    return { rows: entries.length, types };
  }
}
