import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { VALIDATOR_STATES, type ValidatorState } from '@snowline/domain';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseLimit, parseShortString } from '../common/paging';
import { EventPageDto } from '../events/dto/event.response';
import { badRequest } from '../common/problem';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { CreateValidatorDto } from './dto/create-validator.dto';
import { UpdateValidatorDto } from './dto/update-validator.dto';
import { ValidatorDto, ValidatorPageDto } from './dto/validator.response';
import { parseLabelFilter } from './labels';
import { ValidatorsService } from './validators.service';

const uuid = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () => badRequest('id: must be a validator id (a UUID).'),
});

@ApiTags('validators')
@ApiBearerAuth()
@Controller('v1/validators')
export class ValidatorsController {
  constructor(private readonly validators: ValidatorsService) {}

  @IdempotentPost()
  @HttpCode(202)
  @RequireScope('validators:write')
  @ApiOperation({ summary: 'Launch a validator (generated or imported staking identity)' })
  @ApiAcceptedResponse({
    type: ValidatorDto,
    description: 'Accepted: it launches in the background',
  })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateValidatorDto) {
    return this.validators.create(p.projectId, dto);
  }

  @Get()
  @RequireScope('validators:read')
  @ApiOperation({ summary: 'List validators, newest first, with cursor pagination' })
  @ApiOkResponse({ type: ValidatorPageDto })
  // One decorator for the whole set, so the document lists them in this order.
  @applyDecorators(
    ApiLimitQuery(),
    ApiQuery({ name: 'cursor', required: false, type: String }),
    ApiQuery({ name: 'state', required: false, enum: VALIDATOR_STATES }),
    ApiQuery({ name: 'network', required: false, type: String }),
    ApiQuery({ name: 'zone', required: false, type: String }),
    ApiQuery({
      name: 'label',
      required: false,
      description: 'key=value; repeat or comma-separate for several (all must match)',
      example: 'team=core',
    }),
  )
  list(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    // One query object, read here (not seven @Query() params): each param is its own pipe pass.
    const { limit, cursor, state, network, zone, label } = query;
    if (state !== undefined && !VALIDATOR_STATES.includes(state as ValidatorState)) {
      throw badRequest(`state: must be one of ${VALIDATOR_STATES.join(', ')}.`);
    }
    return this.validators.list(p.projectId, {
      limit: parseLimit(limit),
      cursor: parseShortString('cursor', cursor),
      state: state as ValidatorState | undefined,
      network: parseShortString('network', network),
      zone: parseShortString('zone', zone),
      labels: parseLabelFilter(label),
    });
  }

  @Get(':id')
  @RequireScope('validators:read')
  @ApiOperation({ summary: 'Get a validator' })
  @ApiOkResponse({ type: ValidatorDto })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuid) id: string) {
    return this.validators.get(p.projectId, id);
  }

  @Patch(':id')
  @RequireScope('validators:write')
  @ApiOperation({ summary: 'Change a validator’s name, labels, zone policy or protection' })
  @ApiOkResponse({ type: ValidatorDto })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Body() dto: UpdateValidatorDto,
  ) {
    return this.validators.update(p.projectId, id, dto);
  }

  @Delete(':id')
  @HttpCode(202)
  @RequireScope('validators:write')
  @ApiOperation({ summary: 'Retire a validator: fence it, delete its instance' })
  @ApiAcceptedResponse({
    type: ValidatorDto,
    description: 'Accepted: it retires in the background',
  })
  retire(@CurrentPrincipal() p: Principal, @Param('id', uuid) id: string) {
    return this.validators.retire(p.projectId, id);
  }

  @Get(':id/events')
  @RequireScope('validators:read')
  @ApiOperation({ summary: 'The validator’s event timeline, oldest first, after a cursor' })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'an event id; omit to start at the beginning',
  })
  @ApiLimitQuery()
  @ApiOkResponse({ type: EventPageDto })
  events(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid) id: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    return this.validators.events(p.projectId, id, after, parseLimit(limit));
  }
}
