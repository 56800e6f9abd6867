import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { badRequest } from '../common/problem';
import { ValidatorStakingDto } from './dto/staking.response';
import { ValidatorStakingService } from './validator-staking.service';

const uuid = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () => badRequest('id: must be a validator id (a UUID).'),
});

const HELICON_FUJI = '2026-07-28T15:00:00.000Z';

const EXAMPLE = {
  validatorId: '7d7f3a52-0a43-4a0e-9d55-2f1b6f7a9c10',
  name: 'fuji-a',
  checkedAt: '2026-12-01T10:15:30.000Z',
  staking: {
    status: 'at_risk',
    observedAt: '2026-12-01T10:15:02.000Z',
    ageSeconds: 28,
    staleAfterSeconds: 180,
    pchainTime: '2026-12-01T10:14:58.000Z',
    registered: true,
    txId: '2Zc9…',
    startTime: '2026-12-01T00:00:00.000Z',
    endTime: '2026-12-01T12:00:00.000Z',
    weight: '1000000000',
    autoRenew: false,
    requirement: {
      value: 0.9,
      basis: 'helicon',
      heliconActivatesAt: HELICON_FUJI,
      reason: `90 %: the stake started 2026-12-01T00:00:00.000Z, at or after Helicon on fuji (${HELICON_FUJI}; ACP-267)`,
    },
    uptime: { value: 0.93, source: 'peer', observers: 2 },
    budget: { totalSeconds: 4320, usedSeconds: 2583, leftSeconds: 1737, leftFraction: 0.4021 },
    reward: 'at_risk',
    periodEnding: false,
    l1: null,
    lastKnown: null,
  },
  registration: {
    transaction: 'AddPermissionlessValidatorTx',
    network: 'fuji',
    nodeId: 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg',
    blsPublicKey: '0xa1b2…',
    proofOfPossession: '0x8c9d…',
    rulesAt: '2026-12-01T10:15:30.000Z',
    minStakeDurationSeconds: 43200,
    maxStakeDurationSeconds: 31536000,
    minStake: '1000000000',
    maxStake: '3000000000000000',
    uptimeRequirement: 0.9,
    heliconActive: true,
    heliconActivatesAt: HELICON_FUJI,
    source: 'ava-labs/avalanchego v1.15.0-fuji: genesis/genesis_fuji.go StakingConfig …',
  },
};

/** Read-only: a validator's staking as the network sees it, and what registering it takes. */
@ApiTags('validators')
@ApiBearerAuth()
@Controller('v1/validators')
export class ValidatorStakingController {
  constructor(private readonly staking: ValidatorStakingService) {}

  @Get(':id/staking')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'A validator’s staking: the network’s view of it, and its registration inputs',
    description:
      '`staking` is the block of `GET /v1/validators/:id`: registration (start, end, weight in nAVAX, ACP-236 auto-renew), the uptime requirement and why (80 % for a stake started before its network’s Helicon activation, 90 % at or after, ACP-267), the uptime as its peers measure it (`source: peer`; `self` when only its own node answered), the downtime budget (total, used, left; below 0 the reward is lost) and the view’s age. An L1 validator (ACP-77) has no stake window or uptime budget; its `l1` figures are its balance, the P-chain’s fee price, the days of fee the balance pays at that price and whether that is below L1_BALANCE_LOW_DAYS (`l1.balance_low`). A view older than `staleAfterSeconds`, or never made, is `unknown`: its figures are null and `lastKnown` holds the last ones. ' +
      '`registration` is what the staking transaction needs: the NodeID, BLS public key and proof of possession, and the network’s minimum and maximum stake duration and stake for a stake starting now (AvalancheGo genesis StakingConfig).',
  })
  @ApiOkResponse({
    type: ValidatorStakingDto,
    description: 'Staking view and registration inputs',
    example: EXAMPLE,
  })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuid) id: string) {
    return this.staking.get(p.projectId, id);
  }
}
