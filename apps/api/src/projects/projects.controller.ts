import { Body, Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { parseId } from '../common/paging';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { CreateApiKeyDto, CreateProjectDto } from './dto/project.dto';
import {
  ApiKeyDto,
  ApiKeyPageDto,
  CreatedApiKeyDto,
  ProjectDto,
  ProjectPageDto,
} from './dto/project.response';
import { ProjectsService } from './projects.service';

const PROJECT_EXAMPLE = {
  id: '0b9d2c1e-5a7f-4c1e-9d7a-3f2b1c0d9e8f',
  name: 'acme-staking',
  createdAt: '2025-11-26T10:00:00.000Z',
};
const KEY_EXAMPLE = {
  id: '6a1f0e2d-3c4b-4a59-8e7d-1c2b3a4d5e6f',
  name: 'ci deployer',
  prefix: 'sl_key_AbCdE',
  scopes: ['validators:read', 'validators:write'],
  createdAt: '2025-11-26T10:00:00.000Z',
  revokedAt: null,
};

@ApiTags('projects')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @IdempotentPost()
  @ApiOperation({ summary: 'Create a project (tenant); operator admin key only' })
  @ApiCreatedResponse({ type: ProjectDto, description: 'The project', example: PROJECT_EXAMPLE })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateProjectDto): Promise<ProjectDto> {
    return this.projects.create(p, dto.name);
  }

  @Get()
  @ApiOperation({ summary: 'List projects visible to the key (the operator sees all)' })
  @ApiOkResponse({ type: ProjectPageDto, example: { items: [PROJECT_EXAMPLE], nextCursor: null } })
  list(@CurrentPrincipal() p: Principal): Promise<ProjectPageDto> {
    return this.projects.list(p);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a project' })
  @ApiOkResponse({ type: ProjectDto, example: PROJECT_EXAMPLE })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ProjectDto> {
    return this.projects.get(p, parseId('id', id));
  }

  @IdempotentPost(':id/api-keys')
  @ApiOperation({ summary: 'Create an API key; the secret `key` is shown in this response only' })
  @ApiCreatedResponse({
    type: CreatedApiKeyDto,
    example: { ...KEY_EXAMPLE, key: 'sl_key_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789' },
  })
  createKey(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.projects.createKey(p, parseId('id', id), dto);
  }

  @Get(':id/api-keys')
  @ApiOperation({ summary: 'List the project’s API keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyPageDto, example: { items: [KEY_EXAMPLE], nextCursor: null } })
  listKeys(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ApiKeyPageDto> {
    return this.projects.listKeys(p, parseId('id', id));
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key (effective immediately)' })
  @ApiOkResponse({
    type: ApiKeyDto,
    example: { ...KEY_EXAMPLE, revokedAt: '2025-11-27T10:00:00.000Z' },
  })
  revokeKey(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('keyId') keyId: string,
  ): Promise<ApiKeyDto> {
    return this.projects.revokeKey(p, parseId('id', id), parseId('keyId', keyId));
  }
}
