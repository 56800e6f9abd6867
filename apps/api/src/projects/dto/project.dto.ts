import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { SCOPES, type Scope } from '../../auth/principal';

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u;
const NAME_MSG =
  'name must be 1–100 letters, digits, spaces, dots, underscores or dashes, starting with a letter or digit';

export class CreateProjectDto {
  @ApiProperty({ example: 'acme-staking' })
  @IsString()
  @MaxLength(100)
  @Matches(NAME, { message: NAME_MSG })
  name!: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci deployer' })
  @IsString()
  @MaxLength(100)
  @Matches(NAME, { message: NAME_MSG })
  name!: string;

  @ApiProperty({
    enum: SCOPES,
    isArray: true,
    example: ['validators:read', 'validators:write'],
    description: '`admin` satisfies every scope and manages the project’s keys.',
  })
  @IsArray()
  @ArrayMinSize(1, { message: 'scopes must name at least one scope' })
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique({ message: 'scopes must not repeat a scope' })
  @IsIn(SCOPES as unknown as string[], {
    each: true,
    message: `each scope must be one of: ${SCOPES.join(', ')}`,
  })
  scopes!: Scope[];
}
