import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Repositories } from '@snowline/persistence';
import { Public } from '../auth/principal';
import { WebhookQueue } from '../webhooks/webhook-queue';

const TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** `/readyz`: 200 only when Postgres and Redis answer (a load balancer stops routing otherwise). */
@ApiTags('health')
@Public()
@Controller()
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly repos: Repositories,
    private readonly redis: WebhookQueue,
  ) {}

  @Get('readyz')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: Postgres and Redis answer' })
  @ApiResponse({
    status: 200,
    example: { status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } },
  })
  @ApiResponse({ status: 503, description: 'A dependency is down (named in `error`)' })
  readyz() {
    return this.health.check([
      () => this.probe('postgres', () => this.repos.ping()),
      () => this.probe('redis', () => this.redis.connection.ping()),
    ]);
  }

  private async probe(key: 'postgres' | 'redis', fn: () => Promise<unknown>) {
    const ind = this.indicators.check(key);
    try {
      await within(fn(), TIMEOUT_MS);
      return ind.up();
    } catch (err) {
      return ind.down({ message: (err as Error).message });
    }
  }
}
