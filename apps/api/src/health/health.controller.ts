import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/principal';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: 200 while the process is up' })
  healthz() {
    return { status: 'ok' };
  }
}
