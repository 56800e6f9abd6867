import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { NetworkUpgradesDto } from './dto/network-upgrades.response';
import { VersionsService } from './versions.service';

/** The network-upgrade calendar as it concerns the caller's project (the console's banner). */
@ApiTags('versions')
@ApiBearerAuth()
@Controller('v1/network-upgrades')
export class NetworkUpgradesController {
  constructor(private readonly versions: VersionsService) {}

  @Get()
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'Each network’s next activation and the project’s validators that will not survive it',
    description:
      'From the published calendar plus NETWORK_UPGRADES. `warning` is true within UPGRADE_WARNING_DAYS; a validator whose running version is unknown is counted in `validatorsUnknown`, never as at risk or safe.',
  })
  @ApiOkResponse({ type: NetworkUpgradesDto })
  list(@CurrentPrincipal() p: Principal) {
    return this.versions.upcoming(p.projectId);
  }
}
