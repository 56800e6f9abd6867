import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/principal';
import { MetricsService } from './metrics.service';

@ApiTags('health')
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (names prefixed snowline_)' })
  @ApiProduces('text/plain')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
