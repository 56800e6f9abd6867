import { Controller, Delete, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { RolloutsService } from './rollouts.service';

const HALT = {
  network: 'fuji',
  version: '1.15.1',
  reason: 'validator 3f0c… did not come up on 1.15.1 within 120 s; rolled back',
  validatorId: '3f0c2a9e-8d1b-4c55-9a51-2d3f1e0b7c44',
  haltedAt: '2026-12-03T10:00:00.000Z',
};

@ApiTags('rollouts')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/rollouts/halts')
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Halted rollouts: versions the worker moves no validator onto, per network, since a canary rolled back (operator admin key)',
  })
  @ApiOkResponse({ schema: { example: { items: [HALT] } } })
  list(@CurrentPrincipal() p: Principal) {
    return this.rollouts.halts(p);
  }

  @Delete(':network/:version')
  @ApiOperation({
    summary:
      'Lift a halt (operator admin key): the worker resumes the rollout to that version on its next round; a rollout.resumed event records who and why it had halted. 404 when none is halted.',
  })
  @ApiOkResponse({ schema: { example: HALT } })
  resume(
    @CurrentPrincipal() p: Principal,
    @Param('network') network: string,
    @Param('version') version: string,
  ) {
    return this.rollouts.resume(p, network, version);
  }
}
