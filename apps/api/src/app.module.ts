import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ConfigModule, loadOrCreateMasterKey, type AppConfig } from '@snowline/config';
import { PersistenceModule } from '@snowline/persistence';
import { createRedis, LifecycleQueue } from '@snowline/queue';
import { AgentController } from './agent/agent.controller';
import { AgentService } from './agent/agent.service';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ProblemFilter } from './common/problem.filter';
import { HealthController } from './health/health.controller';
import { IdentityService, MASTER_KEY } from './identities/identity.service';
import { ValidatorsController } from './validators/validators.controller';
import { ValidatorsService } from './validators/validators.service';

@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(@Inject(LifecycleQueue) private readonly queue: LifecycleQueue) {}

  static forRoot(config: AppConfig, warn: (msg: string) => void = () => {}): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), PersistenceModule.forRoot({ poolSize: 20 })],
      controllers: [HealthController, ValidatorsController, AgentController],
      providers: [
        { provide: MASTER_KEY, useFactory: () => loadOrCreateMasterKey(config, warn) },
        {
          provide: LifecycleQueue,
          useFactory: () => new LifecycleQueue(createRedis(config.redisUrl), config.queuePrefix),
        },
        IdentityService,
        ValidatorsService,
        AgentService,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const conn = this.queue.queue.opts.connection as { quit?: () => Promise<unknown> };
    await this.queue.close();
    await conn.quit?.().catch(() => undefined);
  }
}
