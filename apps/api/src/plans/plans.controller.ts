import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope, type Principal } from '../auth/principal';
import { badRequest } from '../common/problem';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { ApplyPlanDto, CreatePlanDto } from './dto/plan.dto';
import { ForceUnlockDto, PlanDto, PlanLockDto } from './dto/plan.response';
import { PlansService } from './plans.service';

const uuid = (what: string) =>
  new ParseUUIDPipe({
    version: '4',
    exceptionFactory: () => badRequest(`${what}: must be a plan id (a UUID).`),
  });

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @IdempotentPost()
  @HttpCode(201)
  @RequireScope('validators:read')
  @ApiOperation({
    summary:
      'Plan: diff snowline.yaml’s validators against the project (create/update/replace/delete/no-op, with reasons)',
  })
  @ApiCreatedResponse({ type: PlanDto })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreatePlanDto): Promise<PlanDto> {
    return this.plans.create(p, dto);
  }

  // Declared before ':id' so "lock" is not taken for a plan id.
  @Get('lock')
  @RequireScope('validators:read')
  @ApiOperation({ summary: 'Who holds the project’s apply lock, and since when (404: unlocked)' })
  @ApiOkResponse({ type: PlanLockDto })
  lock(@CurrentPrincipal() p: Principal): Promise<PlanLockDto> {
    return this.plans.lock(p.projectId);
  }

  @Delete('lock')
  @RequireScope('validators:write')
  @ApiOperation({ summary: 'force-unlock: release the apply lock held by the given plan' })
  @ApiQuery({ name: 'planId', required: true, description: 'the plan that holds the lock' })
  @ApiOkResponse({ type: ForceUnlockDto })
  forceUnlock(
    @CurrentPrincipal() p: Principal,
    @Query('planId', uuid('planId')) planId: string,
  ): Promise<ForceUnlockDto> {
    return this.plans.forceUnlock(p, planId);
  }

  @Get(':id')
  @RequireScope('validators:read')
  @ApiOperation({ summary: 'A plan, with the progress of its apply' })
  @ApiOkResponse({ type: PlanDto })
  get(@CurrentPrincipal() p: Principal, @Param('id', uuid('id')) id: string): Promise<PlanDto> {
    return this.plans.get(p, id);
  }

  @IdempotentPost(':id/apply')
  @HttpCode(200)
  @RequireScope('validators:write')
  @ApiOperation({
    summary:
      'Apply a plan: 409 if its state serial is stale (with what changed), if it deletes a prevent_destroy validator, or if the project is locked',
  })
  @ApiOkResponse({ type: PlanDto })
  apply(
    @CurrentPrincipal() p: Principal,
    @Param('id', uuid('id')) id: string,
    @Body() dto: ApplyPlanDto,
  ): Promise<PlanDto> {
    return this.plans.apply(p, id, dto);
  }
}
