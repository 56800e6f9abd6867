import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

/** PATCH: only the fields given change. */
export class UpdateValidatorDto {
  @ApiPropertyOptional({ example: 'fuji-main' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    message:
      'name must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
  })
  name?: string;

  @ApiPropertyOptional({
    example: { team: 'core', env: 'prod' },
    description: 'Replaces every label.',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsObject({ message: 'labels must be an object of string values' })
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    example: ['cn-hongkong-b', 'cn-hongkong-c'],
    description: 'Allowed zones for future placements and failovers (empty: any).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  zones?: string[];

  @ApiPropertyOptional({ description: 'A protected validator cannot be deleted.', example: true })
  @IsOptional()
  @IsBoolean({ message: 'protected must be true or false' })
  protected?: boolean;
}
