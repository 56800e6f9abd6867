import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseLimit, parseShortString } from '../common/paging';
import { badRequest } from '../common/problem';
import { ValidatorHostsDto } from './dto/validator-hosts.response';
import { ValidatorHostsService } from './validator-hosts.service';

const uuid = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () => badRequest('id: must be a validator id (a UUID).'),
});

const EXAMPLE = {
  validatorId: '7d7f3a52-0a43-4a0e-9d55-2f1b6f7a9c10',
  state: 'active',
  generation: 3,
  currentHostId: 'b2c1d7e4-5f60-4a1b-8c9d-0e1f2a3b4c5d',
  checkedAt: '2025-11-26T10:15:30.000Z',
  health: {
    hostId: 'b2c1d7e4-5f60-4a1b-8c9d-0e1f2a3b4c5d',
    zone: 'cn-hongkong-c',
    instanceId: 'i-j6c0example2',
    checks: [
      {
        name: 'verdict',
        label: 'Health verdict',
        status: 'pass',
        value: 'healthy',
        lastKnown: null,
        observedAt: '2025-11-26T10:15:27.000Z',
        ageSeconds: 3,
        staleAfterSeconds: 15,
        detail: 'lease fresh, instance running',
      },
      {
        name: 'node_healthy',
        label: 'Node healthy',
        status: 'unknown',
        value: null,
        lastKnown: 'yes',
        observedAt: '2025-11-26T10:14:58.000Z',
        ageSeconds: 32,
        staleAfterSeconds: 25,
        detail: 'no observation for 32 s; last seen: yes',
      },
    ],
  },
  items: [
    {
      id: 'b2c1d7e4-5f60-4a1b-8c9d-0e1f2a3b4c5d',
      zone: 'cn-hongkong-c',
      instanceId: 'i-j6c0example2',
      instanceType: 'ecs.g7.2xlarge',
      role: 'assigned',
      generation: 3,
      status: 'current',
      launchedAt: '2025-11-26T09:00:00.000Z',
      startedAt: '2025-11-26T10:02:11.000Z',
      registeredAt: '2025-11-26T09:00:40.000Z',
      endedAt: null,
      endReason: null,
      deletedAt: null,
      deletionPending: false,
      fenced: false,
      lastVerdict: {
        state: 'healthy',
        reason: 'lease fresh, instance running',
        since: '2025-11-26T10:02:30.000Z',
      },
      lastReportAt: '2025-11-26T10:15:28.000Z',
      version: '1.15.3',
      runningVersion: '1.15.3',
    },
    {
      id: 'a1b0c6d3-4e5f-4a0b-9c8d-7e6f5a4b3c2d',
      zone: 'cn-hongkong-b',
      instanceId: 'i-j6c0example1',
      instanceType: 'ecs.g7.2xlarge',
      role: 'assigned',
      generation: 2,
      status: 'replaced',
      launchedAt: '2025-11-25T08:00:00.000Z',
      startedAt: '2025-11-25T08:00:00.000Z',
      registeredAt: '2025-11-25T08:00:45.000Z',
      endedAt: '2025-11-26T10:02:11.000Z',
      endReason: 'failed over to cn-hongkong-c: ECS reports the instance Stopped',
      deletedAt: '2025-11-26T10:40:02.000Z',
      deletionPending: false,
      fenced: true,
      lastVerdict: {
        state: 'unhealthy',
        reason: 'ECS reports the instance Stopped',
        since: '2025-11-26T10:02:05.000Z',
      },
      lastReportAt: '2025-11-26T10:01:50.000Z',
      version: '1.15.3',
      runningVersion: null,
    },
  ],
  nextCursor: null,
};

/** Read-only: where a validator has run, and how its current host is doing. */
@ApiTags('validators')
@ApiBearerAuth()
@Controller('v1/validators')
export class ValidatorHostsController {
  constructor(private readonly hosts: ValidatorHostsService) {}

  @Get(':id/hosts')
  @RequireScope('validators:read')
  @ApiOperation({
    summary: 'The hosts a validator has run on, newest first, and its current host’s health checks',
    description:
      'Each host: zone, instance, role, generation, when it took the identity (`startedAt`) and when and why it stopped holding it (`endedAt`, `endReason`; null when the record does not say). `status` is `current`, `starting` (a launch in flight), `replaced` (a failover moved the identity off it), `retired` or `ended`; `deletionPending`: its tenure ended but its instance is not deleted yet (the reaper deletes it, e.g. when an unreachable zone returns). ' +
      '`health` (null without a current host) lists the checks of the current host — the health loop’s verdict, the cloud instance status, the agent’s lease, and the node’s running / healthy / bootstrapped report — each with `observedAt` and `ageSeconds`. A check whose observation is older than `staleAfterSeconds`, or was never made, has `status: "unknown"` and `value: null`, with the last value in `lastKnown` — never a stale value dressed up as current.',
  })
  @ApiLimitQuery()
  @ApiQuery({ name: 'cursor', required: false })
  @ApiOkResponse({
    type: ValidatorHostsDto,
    description: 'Host history and current health',
    example: EXAMPLE,
  })
  list(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    return this.hosts.list(p.projectId, id, {
      limit: parseLimit(limit),
      cursor: parseShortString('cursor', cursor),
    });
  }
}
