import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { prometheusContentType } from 'prom-client';
import { Public } from '../auth/principal';
import { MetricsService } from './metrics.service';

@ApiTags('health')
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics (names prefixed snowline_)' })
  @ApiProduces(prometheusContentType)
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.registry.metrics();
    // The exposition format's type, verbatim (Prometheus 3 refuses text/html without a fallback);
    // res.end, not res.send, which would re-order its parameters.
    res.setHeader('Content-Type', prometheusContentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  }
}
