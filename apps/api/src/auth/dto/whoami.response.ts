import { ApiProperty } from '@nestjs/swagger';

export class WhoamiDto {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'default' }) projectName!: string | null;
  @ApiProperty({ format: 'uuid' }) keyId!: string;
  @ApiProperty({ type: [String], example: ['validators:read', 'validators:write'] })
  scopes!: string[];
}
