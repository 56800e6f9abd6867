import { ApiProperty } from '@nestjs/swagger';

// Response schemas only: the document and the generated client read them; webhookView builds the body.

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'https://example.com/snowline-hook' }) url!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String], description: 'empty: every event type' }) eventTypes!: string[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ example: 'whsec_AbCd' }) secretPrefix!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the name snowline.yaml manages it by; null when made in the console or API',
  })
  configName!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ description: 'the signing secret: shown in this response only' })
  secret!: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookDto] }) items!: WebhookDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: one page' })
  nextCursor!: string | null;
}

export class DeliveryAttemptDto {
  @ApiProperty({ type: 'integer' }) attempt!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: 'integer', nullable: true }) statusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: 'integer' }) durationMs!: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) webhookId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: a test ping' })
  eventId!: string | null;
  @ApiProperty({ example: 'validator.created' }) eventType!: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] })
  status!: 'pending' | 'succeeded' | 'failed';
  @ApiProperty({ type: 'integer' }) attempts!: number;
  @ApiProperty({ type: 'integer', nullable: true }) lastStatusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: [DeliveryAttemptDto] }) attemptLog!: DeliveryAttemptDto[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'while pending' })
  nextAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the body sent' })
  payload!: Record<string, unknown>;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items!: WebhookDeliveryDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `cursor`; null: last page' })
  nextCursor!: string | null;
}
