import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { ApiLimitQuery, parseId, parseLimit, parseShortString } from '../common/paging';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { CreateWebhookDto, UpdateWebhookDto } from './dto/webhook.dto';
import {
  CreatedWebhookDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.response';
import { WebhooksService } from './webhooks.service';

const WEBHOOK_EXAMPLE = {
  id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  url: 'https://example.com/snowline-hook',
  description: 'pager bridge',
  eventTypes: ['validator.created'],
  enabled: true,
  secretPrefix: 'whsec_AbCd',
  configName: null,
  createdAt: '2025-11-26T10:00:00.000Z',
  updatedAt: '2025-11-26T10:00:00.000Z',
};
const DELIVERY_EXAMPLE = {
  id: '1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b',
  webhookId: WEBHOOK_EXAMPLE.id,
  eventId: '1042',
  eventType: 'validator.created',
  status: 'pending',
  attempts: 1,
  lastStatusCode: 503,
  lastError: 'receiver answered HTTP 503',
  attemptLog: [
    {
      attempt: 1,
      at: '2025-11-26T10:00:01.000Z',
      statusCode: 503,
      error: 'receiver answered HTTP 503',
      durationMs: 12,
    },
  ],
  nextAttemptAt: '2025-11-26T10:00:03.000Z',
  deliveredAt: null,
  createdAt: '2025-11-26T10:00:00.900Z',
  payload: { id: '1042', type: 'validator.created' },
};

@ApiTags('webhooks')
@ApiBearerAuth()
@RequireScope('webhooks:write')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @IdempotentPost()
  @ApiOperation({
    summary: 'Create a webhook; its signing `secret` is shown in this response only',
  })
  @ApiCreatedResponse({
    type: CreatedWebhookDto,
    example: { ...WEBHOOK_EXAMPLE, secret: 'whsec_AbCdEf…' },
  })
  create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateWebhookDto,
  ): Promise<CreatedWebhookDto> {
    return this.webhooks.create(p.projectId, dto);
  }

  @Get()
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: 'List the project’s webhooks' })
  @ApiOkResponse({ type: WebhookPageDto, example: { items: [WEBHOOK_EXAMPLE], nextCursor: null } })
  list(@CurrentPrincipal() p: Principal): Promise<WebhookPageDto> {
    return this.webhooks.list(p.projectId);
  }

  @Get(':id')
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: 'Get a webhook' })
  @ApiOkResponse({ type: WebhookDto, example: WEBHOOK_EXAMPLE })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(p.projectId, parseId('id', id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook’s URL, description, event types or enabled flag' })
  @ApiOkResponse({ type: WebhookDto, example: WEBHOOK_EXAMPLE })
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    return this.webhooks.update(p.projectId, parseId('id', id), dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook (pending deliveries stop)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.webhooks.remove(p.projectId, parseId('id', id));
  }

  @Get(':id/deliveries')
  @RequireScope('webhooks:read')
  @ApiOperation({ summary: 'The webhook’s delivery log, newest first, with every attempt' })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiLimitQuery()
  @ApiOkResponse({
    type: WebhookDeliveryPageDto,
    example: { items: [DELIVERY_EXAMPLE], nextCursor: null },
  })
  deliveries(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.deliveries(p.projectId, parseId('id', id), {
      cursor: parseShortString('cursor', cursor),
      limit: parseLimit(limit),
    });
  }

  @IdempotentPost(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a signed `webhook.test` delivery now' })
  @ApiAcceptedResponse({
    type: WebhookDeliveryDto,
    example: { ...DELIVERY_EXAMPLE, eventId: null, eventType: 'webhook.test' },
  })
  test(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookDeliveryDto> {
    return this.webhooks.test(p.projectId, parseId('id', id));
  }
}
