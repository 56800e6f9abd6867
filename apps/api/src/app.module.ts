import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ConfigModule, loadOrCreateMasterKey, type AppConfig } from '@snowline/config';
import { HostHistoryRepository, PersistenceModule, Repositories } from '@snowline/persistence';
import { createRedis, LifecycleQueue } from '@snowline/queue';
import { AgentController } from './agent/agent.controller';
import { ZonesController } from './zones/zones.controller';
import { AgentService } from './agent/agent.service';
import { StakingReportService } from './agent/staking-report.service';
import { InstanceIdentityVerifier } from './agent/instance-identity.verifier';
import { ApiKeyGuard } from './auth/api-key.guard';
import { WhoamiController } from './auth/whoami.controller';
import { ProblemFilter } from './common/problem.filter';
import { HealthController } from './health/health.controller';
import { IdempotencyService } from './idempotency/idempotency.service';
import { IdentityService, MASTER_KEY } from './identities/identity.service';
import { ValidatorsController } from './validators/validators.controller';
import { ValidatorsService } from './validators/validators.service';
import { InstanceTypesService } from './validators/instance-types.service';
import { ValidatorHostsController } from './validators/validator-hosts.controller';
import { ValidatorHostsService } from './validators/validator-hosts.service';
import { ValidatorStakingController } from './validators/validator-staking.controller';
import { ValidatorStakingService } from './validators/validator-staking.service';
// Public API (issue 7)
import { ApiKeyCache } from './auth/api-key-cache';
import { RateLimitGuard } from './auth/rate-limit.guard';
import { HostileBodyGuard } from './common/hostile-body.guard';
import { EventFeedService } from './events/event-feed.service';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { ReadinessController } from './health/readiness.controller';
import { loggerParams } from './logging';
import { FleetMetrics } from './metrics/fleet-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { HealthMetrics } from './zones/health-metrics';
import { ProjectsController } from './projects/projects.controller';
import { ProjectsService } from './projects/projects.service';
import { WebhookDeliveryService } from './webhooks/webhook-delivery.service';
import { WebhookQueue } from './webhooks/webhook-queue';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhooksService } from './webhooks/webhooks.service';
// Declarative plans (issue 8)
import { PlansController } from './plans/plans.controller';
import { PlansService } from './plans/plans.service';
import { RolloutsController } from './rollouts/rollouts.controller';
import { RolloutsService } from './rollouts/rollouts.service';
import { StandbyPoolsController } from './standby-pools/standby-pools.controller';
import { StandbyPoolsService } from './standby-pools/standby-pools.service';
import { NetworkUpgradesController } from './versions/network-upgrades.controller';
import { VersionsService } from './versions/versions.service';

/** Every controller of the API (a unit test checks that each POST route is idempotent). */
export const CONTROLLERS = [
  HealthController,
  ValidatorsController,
  ValidatorHostsController,
  ValidatorStakingController,
  AgentController,
  ReadinessController,
  MetricsController,
  ProjectsController,
  EventsController,
  WebhooksController,
  ZonesController,
  PlansController,
  StandbyPoolsController,
  RolloutsController,
  WhoamiController,
  NetworkUpgradesController,
];

@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(@Inject(LifecycleQueue) private readonly queue: LifecycleQueue) {}

  static forRoot(
    config: AppConfig,
    warn: (msg: string) => void = () => {},
    logStream?: DestinationStream,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        PersistenceModule.forRoot({ poolSize: 20 }),
        LoggerModule.forRoot(loggerParams(config, logStream)),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: CONTROLLERS,
      providers: [
        { provide: MASTER_KEY, useFactory: () => loadOrCreateMasterKey(config, warn) },
        {
          provide: LifecycleQueue,
          useFactory: () => new LifecycleQueue(createRedis(config.redisUrl), config.queuePrefix),
        },
        IdentityService,
        ValidatorsService,
        InstanceTypesService,
        ValidatorHostsService,
        ValidatorStakingService,
        {
          provide: HostHistoryRepository,
          inject: [Repositories],
          useFactory: (repos: Repositories) => repos.hostHistory,
        },
        AgentService,
        StakingReportService,
        InstanceIdentityVerifier,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        // Public API (issue 7): guards run in this order, after ApiKeyGuard.
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: HostileBodyGuard },
        {
          provide: WebhookQueue,
          useFactory: () => new WebhookQueue(createRedis(config.redisUrl), config.queuePrefix),
        },
        ApiKeyCache,
        IdempotencyService,
        MetricsService,
        HealthMetrics,
        FleetMetrics,
        ProjectsService,
        EventFeedService,
        EventsService,
        WebhooksService,
        WebhookDeliveryService,
        PlansService,
        StandbyPoolsService,
        RolloutsService,
        VersionsService,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const conn = this.queue.queue.opts.connection as { quit?: () => Promise<unknown> };
    await this.queue.close();
    await conn.quit?.().catch(() => undefined);
  }
}
