import type { DataSource } from 'typeorm';
import { inTransaction, managerOf, type Tx } from './tx';
import { ProjectRepository } from './project.repository';
import { ApiKeyRepository } from './api-key.repository';
import { IdentityRepository } from './identity.repository';
import { ValidatorRepository } from './validator.repository';
import { HostRepository } from './host.repository';
import { EventRepository } from './event.repository';
import { LaunchBatchRepository } from './launch-batch.repository';
import { EventFeedRepository } from './event-feed.repository';
import { IdempotencyRepository } from './idempotency.repository';
import { WebhookRepository } from './webhook.repository';
import { TenancyRepository } from './tenancy.repository';
import { ZoneRepository } from './zone.repository';
import { IncidentRepository } from './incident.repository';
import { FailoverRepository } from './failover.repository';
import { ControlLoopRepository } from './control-loop.repository';
import { StandbyPoolRepository } from './standby-pool.repository';
import { InstanceTypeCatalogRepository } from './catalog.repository';
import { RetentionRepository } from './retention.repository';
import { RolloutRepository } from './rollout.repository';
import { VersionRepository } from './version.repository';
import { StakingRepository } from './staking.repository';
import { LeaderLeaseRepository } from './leader-leases.repository';
import { ValidatorLockRepository } from './validator-lock.repository';
import { PlanRepository } from './plan.repository';
import { DeclarativeRepository } from './declarative.repository';
import { HostHistoryRepository } from './host-history.repository';

/** All repositories over one DataSource. */
export class Repositories {
  readonly projects: ProjectRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly identities: IdentityRepository;
  readonly validators: ValidatorRepository;
  readonly hosts: HostRepository;
  readonly batches: LaunchBatchRepository;
  readonly events: EventRepository;
  readonly eventFeed: EventFeedRepository;
  readonly idempotency: IdempotencyRepository;
  readonly webhooks: WebhookRepository;
  readonly tenancy: TenancyRepository;
  readonly zones: ZoneRepository;
  readonly incidents: IncidentRepository;
  readonly failovers: FailoverRepository;
  readonly controlLoops: ControlLoopRepository;
  readonly standbyPools: StandbyPoolRepository;
  readonly catalog: InstanceTypeCatalogRepository;
  readonly retention: RetentionRepository;
  readonly rollouts: RolloutRepository;
  readonly versions: VersionRepository;
  readonly staking: StakingRepository;
  readonly leaderLeases: LeaderLeaseRepository;
  readonly validatorLocks: ValidatorLockRepository;
  readonly plans: PlanRepository;
  readonly declarative: DeclarativeRepository;
  readonly hostHistory: HostHistoryRepository;
  constructor(readonly ds: DataSource) {
    this.projects = new ProjectRepository(ds);
    this.apiKeys = new ApiKeyRepository(ds);
    this.identities = new IdentityRepository(ds);
    this.validators = new ValidatorRepository(ds);
    this.hosts = new HostRepository(ds);
    this.batches = new LaunchBatchRepository(ds);
    this.events = new EventRepository(ds);
    this.eventFeed = new EventFeedRepository(ds);
    this.idempotency = new IdempotencyRepository(ds);
    this.webhooks = new WebhookRepository(ds);
    this.tenancy = new TenancyRepository(ds);
    this.zones = new ZoneRepository(ds);
    this.incidents = new IncidentRepository(ds);
    this.failovers = new FailoverRepository(ds);
    this.controlLoops = new ControlLoopRepository(ds);
    this.standbyPools = new StandbyPoolRepository(ds);
    this.catalog = new InstanceTypeCatalogRepository(ds);
    this.retention = new RetentionRepository(ds);
    this.rollouts = new RolloutRepository(ds);
    this.versions = new VersionRepository(ds);
    this.staking = new StakingRepository(ds);
    this.leaderLeases = new LeaderLeaseRepository(ds);
    this.validatorLocks = new ValidatorLockRepository(ds);
    this.plans = new PlanRepository(ds);
    this.declarative = new DeclarativeRepository(ds);
    this.hostHistory = new HostHistoryRepository(ds);
  }
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.ds, fn);
  }
  /** One round trip to Postgres (readiness). */
  async ping(): Promise<void> {
    await this.ds.query('SELECT 1');
  }
  /** A fresh UUID from Postgres, for a row whose id must be known before it is inserted. */
  async newId(): Promise<string> {
    const [row] = (await this.ds.query('SELECT gen_random_uuid() AS id')) as { id: string }[];
    return row!.id;
  }
  /**
   * The database's clock, now (`clock_timestamp()`, not the transaction's start). Leases, key grants
   * and verdicts are timed by it, so API replicas and workers on different machines share one clock.
   */
  async clock(tx?: Tx): Promise<Date> {
    const [row] = (await (tx ? managerOf(tx) : this.ds.manager).query(
      `SELECT clock_timestamp() AS now`,
    )) as {
      now: Date;
    }[];
    return row!.now;
  }
}
