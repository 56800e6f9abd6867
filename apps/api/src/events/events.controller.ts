import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseLimit } from '../common/paging';
import { EventPageDto } from './dto/event.response';
import { badRequest } from '../common/problem';
import { EventsService, parseTypes } from './events.service';

const EVENT_EXAMPLE = {
  id: '1042',
  type: 'validator.created',
  message: 'Validator fuji-1 created (new identity NodeID-…)',
  validatorId: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b',
  hostId: null,
  zone: null,
  data: { network: 'fuji' },
  createdAt: '2025-11-26T10:00:00.000Z',
};

@ApiTags('events')
@ApiBearerAuth()
@RequireScope('events:read')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({
    summary: 'The project’s event timeline in commit order, after a cursor (an event id)',
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'an event id; omit to start at the beginning',
  })
  @ApiLimitQuery()
  @ApiQuery({ name: 'types', required: false, example: 'validator.created,validator.retiring' })
  @ApiQuery({
    name: 'newest',
    required: false,
    description:
      '`true` (without `after`): the latest `limit` events, still in commit order; nextCursor is null',
  })
  @ApiOkResponse({ type: EventPageDto, example: { items: [EVENT_EXAMPLE], nextCursor: '1042' } })
  list(
    @CurrentPrincipal() p: Principal,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
    @Query('types') types?: string,
    @Query('newest') newest?: string,
  ) {
    if (newest !== undefined && newest !== 'true' && newest !== 'false')
      throw badRequest(`newest must be true or false (got "${newest}").`);
    return this.events.list(p.projectId, {
      after,
      limit: parseLimit(limit),
      types: parseTypes(types),
      newest: newest === 'true',
    });
  }

  @Get('stream')
  @ApiOperation({
    summary: 'Live events over Server-Sent Events; resumes after Last-Event-ID with no gap',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this event id' })
  @ApiQuery({
    name: 'lastEventId',
    required: false,
    description: 'same as the Last-Event-ID header',
  })
  @ApiQuery({ name: 'types', required: false })
  @ApiResponse({
    status: 200,
    description: 'text/event-stream: `id: <event id>` + `data: <event JSON>` per event',
    example: `id: 1042\ndata: ${JSON.stringify(EVENT_EXAMPLE)}\n\n`,
  })
  async stream(
    @CurrentPrincipal() p: Principal,
    @Req() req: Request,
    @Res() res: Response,
    @Headers('last-event-id') header?: string,
    @Query('lastEventId') query?: string,
    @Query('types') types?: string,
  ): Promise<void> {
    await this.events.stream(p, header ?? query, parseTypes(types), req, res);
  }
}
