import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { PutStandbyPoolsDto } from './dto/standby-pools.dto';
import { StandbyPoolsDto } from './dto/standby-pools.response';
import { StandbyPoolsService } from './standby-pools.service';

const EXAMPLE = {
  defaults: { fuji: 1 },
  zones: ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'],
  settings: [
    {
      network: 'fuji',
      zone: 'cn-hongkong-b',
      size: 2,
      updatedBy: 'key 1a2b3c4d',
      updatedAt: '2025-11-26T10:00:00.000Z',
    },
  ],
  effective: { fuji: { 'cn-hongkong-b': 2, 'cn-hongkong-c': 1, 'cn-hongkong-d': 1 } },
};

@ApiTags('standby-pools')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/standby-pools')
export class StandbyPoolsController {
  constructor(private readonly pools: StandbyPoolsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Warm standbys per network and zone: the STANDBY_POOL defaults, the stored setting and what the worker keeps (operator admin key)',
  })
  @ApiOkResponse({ type: StandbyPoolsDto, example: EXAMPLE })
  get(@CurrentPrincipal() p: Principal): Promise<StandbyPoolsDto> {
    return this.pools.viewFor(p);
  }

  @Put()
  @ApiOperation({
    summary:
      'Replace the standby pool setting (operator admin key); pairs left out go back to STANDBY_POOL. The worker applies it on its next sweep.',
  })
  @ApiOkResponse({ type: StandbyPoolsDto, example: EXAMPLE })
  put(@CurrentPrincipal() p: Principal, @Body() dto: PutStandbyPoolsDto): Promise<StandbyPoolsDto> {
    return this.pools.put(p, this.pools.validate(dto.pools, 'pools'));
  }
}
