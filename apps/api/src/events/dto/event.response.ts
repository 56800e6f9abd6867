import { ApiProperty } from '@nestjs/swagger';

// Response schemas only: the document and the generated client read them; eventView builds the body.

export class EventDto {
  @ApiProperty({ example: '1042', description: 'also the cursor and the SSE id' }) id!: string;
  @ApiProperty({ example: 'validator.created' }) type!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) validatorId!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) hostId!: string | null;
  @ApiProperty({ type: String, nullable: true }) zone!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  data!: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] }) items!: EventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'pass as `after`; null: caught up' })
  nextCursor!: string | null;
}
