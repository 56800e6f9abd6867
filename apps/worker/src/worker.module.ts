import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CloudProvider, createCloudProvider } from '@snowline/cloud';
import {
  ConfigModule,
  deriveKey,
  loadOrCreateMasterKey,
  LOG_SECRET_PATHS,
  type AppConfig,
} from '@snowline/config';
import { IdentityVault, PersistenceModule, Repositories } from '@snowline/persistence';
import { LoggerModule } from 'nestjs-pino';
import { createRedis, LifecycleQueue } from '@snowline/queue';
import { IdentityGeneratorService } from './identities/identity-generator.service';
import { LIFECYCLE_CONCURRENCY, LifecycleProcessor } from './lifecycle/lifecycle.processor';
import { BOOTSTRAP_KEY, ProvisionService } from './lifecycle/provision.service';
import { RetireService } from './lifecycle/retire.service';
import { ReconcilerService } from './reconciler/reconciler.service';
import { FailoverService } from './failover/failover.service';
import { SweeperService } from './health/sweeper.service';
import { MoveWatchdogService } from './failover/move-watchdog.service';
import { RemediationService } from './failover/remediation.service';
import { ReaperService } from './standby/reaper.service';
import { ReaperLoop } from './standby/reaper-loop.service';
import { StandbyPoolService } from './standby/standby-pool.service';
import { StandbyRefillLoop } from './standby/standby-refill-loop.service';
import { CatalogRefreshLoop } from './catalog/catalog-refresh-loop.service';
import { RetentionLoop } from './retention/retention-loop.service';
import { RolloutLoop } from './upgrade/rollout-loop.service';
import { UpgradeDeadlineLoop } from './versions/upgrade-deadline-loop.service';
import { StakingLoop } from './staking/staking-loop.service';

/** The master key, read (or created) once for every provider that needs it. */
const MASTER_KEY = Symbol('MASTER_KEY');

@Module({})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(LifecycleQueue) private readonly queue: LifecycleQueue) {}

  static forRoot(config: AppConfig, warn: (m: string) => void = () => {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        // The loops' and jobs' work, plus one lock session per lifecycle job: with 20 in all, 16
        // jobs holding their locks starved the rest ("timeout exceeded when trying to connect":
        // sweeps and provision jobs failing during a burst of 1,000 launches).
        PersistenceModule.forRoot({ poolSize: 20 + LIFECYCLE_CONCURRENCY }),
        // Structured JSON lines, as the API's: `log.warn({ err }, 'message')` keeps its fields.
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: { paths: LOG_SECRET_PATHS, censor: '[redacted]' },
          },
        }),
      ],
      providers: [
        { provide: CloudProvider, useFactory: () => createCloudProvider(config) },
        { provide: MASTER_KEY, useFactory: () => loadOrCreateMasterKey(config, warn) },
        {
          provide: BOOTSTRAP_KEY,
          inject: [MASTER_KEY],
          useFactory: (master: Buffer) => deriveKey(master, 'bootstrap-token'),
        },
        {
          provide: LifecycleQueue,
          useFactory: () => new LifecycleQueue(createRedis(config.redisUrl), config.queuePrefix),
        },
        {
          provide: IdentityVault,
          inject: [Repositories, MASTER_KEY],
          useFactory: (repos: Repositories, master: Buffer) => new IdentityVault(repos, master),
        },
        IdentityGeneratorService,
        ProvisionService,
        RetireService,
        LifecycleProcessor,
        ReconcilerService,
        FailoverService,
        StandbyPoolService,
        ReaperService,
        RemediationService,
        SweeperService,
        MoveWatchdogService,
        RolloutLoop,
        StandbyRefillLoop,
        ReaperLoop,
        CatalogRefreshLoop,
        RetentionLoop,
        UpgradeDeadlineLoop,
        StakingLoop,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const conn = this.queue.queue.opts.connection as { quit?: () => Promise<unknown> };
    await this.queue.close();
    await conn.quit?.().catch(() => undefined);
  }
}
