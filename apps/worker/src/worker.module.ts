import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CloudProvider, createCloudProvider } from '@snowline/cloud';
import { ConfigModule, deriveKey, loadOrCreateMasterKey, type AppConfig } from '@snowline/config';
import { PersistenceModule } from '@snowline/persistence';
import { createRedis, LifecycleQueue } from '@snowline/queue';
import { LifecycleProcessor } from './lifecycle/lifecycle.processor';
import { BOOTSTRAP_KEY, ProvisionService } from './lifecycle/provision.service';
import { RetireService } from './lifecycle/retire.service';
import { ReconcilerService } from './reconciler/reconciler.service';
import { FailoverService } from './failover/failover.service';
import { SweeperService } from './health/sweeper.service';
import { ReaperService } from './standby/reaper.service';
import { StandbyPoolService } from './standby/standby-pool.service';

@Module({})
export class WorkerModule implements OnApplicationShutdown {
  constructor(@Inject(LifecycleQueue) private readonly queue: LifecycleQueue) {}

  static forRoot(config: AppConfig, warn: (m: string) => void = () => {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule.forRoot({ poolSize: 20 })],
      providers: [
        { provide: CloudProvider, useFactory: () => createCloudProvider(config) },
        {
          provide: BOOTSTRAP_KEY,
          useFactory: () => deriveKey(loadOrCreateMasterKey(config, warn), 'bootstrap-token'),
        },
        {
          provide: LifecycleQueue,
          useFactory: () => new LifecycleQueue(createRedis(config.redisUrl), config.queuePrefix),
        },
        ProvisionService,
        RetireService,
        LifecycleProcessor,
        ReconcilerService,
        FailoverService,
        StandbyPoolService,
        ReaperService,
        SweeperService,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const conn = this.queue.queue.opts.connection as { quit?: () => Promise<unknown> };
    await this.queue.close();
    await conn.quit?.().catch(() => undefined);
  }
}
