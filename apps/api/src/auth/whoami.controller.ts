import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from './principal';

/**
 * `GET /v1/whoami`: which project and scopes the calling key has. Lets a client (the CLI, a CI job)
 * check a key before it acts; answered from the key cache, so it is also the cheapest authenticated
 * route — `bench:api` uses it as its baseline.
 */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/whoami')
export class WhoamiController {
  @Get()
  @ApiOperation({ summary: 'The calling API key: its id, project and scopes (never the secret)' })
  @ApiResponse({
    status: 200,
    example: {
      projectId: '0b9d2c1e-5a7f-4c1e-9d7a-3f2b1c0d9e8f',
      keyId: '6a1f0e2d-3c4b-4a59-8e7d-1c2b3a4d5e6f',
      scopes: ['validators:read', 'validators:write'],
    },
  })
  whoami(@CurrentPrincipal() p: Principal) {
    return { projectId: p.projectId, keyId: p.keyId, scopes: p.scopes };
  }
}
