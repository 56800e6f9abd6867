import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Repositories } from '@snowline/persistence';
import { WhoamiDto } from './dto/whoami.response';
import { CurrentPrincipal, type Principal } from './principal';

/** Project names are never renamed through the API, so one read per project per process is enough. */
const MAX_CACHED_NAMES = 10_000;

/**
 * `GET /v1/whoami`: which project and scopes the calling key has. Lets a client (the CLI, a CI job)
 * check a key before it acts; answered from the key cache (and a project-name cache), so it is also
 * the cheapest authenticated route — `bench:api` uses it as its baseline.
 */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('v1/whoami')
export class WhoamiController {
  private readonly names = new Map<string, string>();

  constructor(private readonly repos: Repositories) {}

  @Get()
  @ApiOperation({
    summary: 'The calling API key: its id, project (id and name) and scopes (never the secret)',
  })
  @ApiOkResponse({
    type: WhoamiDto,
    example: {
      projectId: '0b9d2c1e-5a7f-4c1e-9d7a-3f2b1c0d9e8f',
      projectName: 'default',
      keyId: '6a1f0e2d-3c4b-4a59-8e7d-1c2b3a4d5e6f',
      scopes: ['validators:read', 'validators:write'],
    },
  })
  async whoami(@CurrentPrincipal() p: Principal): Promise<WhoamiDto> {
    return {
      projectId: p.projectId,
      projectName: await this.projectName(p.projectId),
      keyId: p.keyId,
      scopes: p.scopes,
    };
  }

  private async projectName(id: string): Promise<string | null> {
    const known = this.names.get(id);
    if (known !== undefined) return known;
    const name = (await this.repos.projects.findById(id))?.name ?? null;
    if (name !== null) {
      if (this.names.size >= MAX_CACHED_NAMES) this.names.clear();
      this.names.set(id, name);
    }
    return name;
  }
}
