import { Body, Controller, Headers, HttpCode, Ip, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ApiExcludeController } from '@nestjs/swagger';
import type { ZodType } from 'zod';
import {
  AGENT_PATHS,
  keysRequestSchema,
  leaseRequestSchema,
  registerRequestSchema,
  stakingReportRequestSchema,
  stoppedRequestSchema,
} from '@snowline/agent';
import { Public } from '../auth/principal';
import { badRequest } from '../common/problem';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { AgentService, type AgentCall } from './agent.service';
import { StakingReportService } from './staking-report.service';

function parse<T>(schema: ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw badRequest(
      r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  return r.data;
}
const call = (path: string, auth: string | undefined, ip: string, req: Request): AgentCall => ({
  header: auth,
  path,
  rawBody: (req as Request & { rawBody?: Buffer }).rawBody,
  client: ip,
});

/**
 * `/v1/agent/*`: spoken only by the host agent (libs/agent). Protocol 2: requests signed by the
 * host's own key, bound at register with the single-use bootstrap token (see AgentService).
 */
@Public()
@ApiExcludeController()
@Controller('v1/agent')
export class AgentController {
  constructor(
    private readonly agent: AgentService,
    private readonly staking: StakingReportService,
  ) {}

  @IdempotentPost('register')
  @HttpCode(200)
  async register(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Req() http: Request,
  ) {
    const req = parse(registerRequestSchema, body);
    return this.agent.registerCall(call(AGENT_PATHS.register, auth, ip, http), req);
  }

  @IdempotentPost('lease')
  @HttpCode(200)
  async lease(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Req() http: Request,
  ) {
    const req = parse(leaseRequestSchema, body);
    const c = call(AGENT_PATHS.lease, auth, ip, http);
    const fast = await this.agent.leaseFast(c, req);
    if (fast) return fast;
    await this.agent.authenticate(c, req.hostId);
    return this.agent.lease(req.hostId, req);
  }

  @IdempotentPost('keys')
  @HttpCode(200)
  async keys(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Req() http: Request,
  ) {
    const req = parse(keysRequestSchema, body);
    await this.agent.authenticate(call(AGENT_PATHS.keys, auth, ip, http), req.hostId);
    return this.agent.keys(req.hostId, req);
  }

  /** The staking channel: what the host's node says of staking, once a minute (StakingReportService). */
  @IdempotentPost('staking')
  @HttpCode(200)
  async stakingReport(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Req() http: Request,
  ) {
    const req = parse(stakingReportRequestSchema, body);
    await this.agent.authenticate(call(AGENT_PATHS.staking, auth, ip, http), req.hostId);
    return this.staking.report(req.hostId, req);
  }

  /** A fenced agent's stop acknowledgment (see AgentService.stopped). Idempotent by nature. */
  @IdempotentPost('stopped')
  @HttpCode(204)
  async stopped(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
    @Req() http: Request,
  ): Promise<void> {
    const req = parse(stoppedRequestSchema, body);
    await this.agent.authenticate(call(AGENT_PATHS.stopped, auth, ip, http), req.hostId);
    await this.agent.stopped(req.hostId, req);
  }
}
