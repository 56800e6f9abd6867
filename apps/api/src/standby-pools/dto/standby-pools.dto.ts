import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';

export class PutStandbyPoolsDto {
  @ApiProperty({
    description:
      'The whole setting: network → zone → warm standbys kept there (0–20). A (network, zone) left out goes back to the STANDBY_POOL default.',
    example: { fuji: { 'cn-hongkong-b': 2, 'cn-hongkong-c': 1 } },
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
  })
  @IsObject({ message: 'pools must be an object: network → zone → count' })
  pools!: Record<string, Record<string, number>>;
}
