import { ApiProperty } from '@nestjs/swagger';

// Response schemas only: the document and the generated client read them; projectView builds the body.

export class ProjectDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'acme-staking' }) name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ProjectPageDto {
  @ApiProperty({ type: [ProjectDto] }) items!: ProjectDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: one page' })
  nextCursor!: string | null;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ci deployer' }) name!: string;
  @ApiProperty({ example: 'sl_key_AbCdE', description: 'enough to recognise the key' })
  prefix!: string;
  @ApiProperty({ type: [String], example: ['validators:read'] }) scopes!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'the secret: shown in this response only' }) key!: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: one page' })
  nextCursor!: string | null;
}
