import { Body, Controller, Headers, HttpCode, Ip } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { ZodType } from 'zod';
import { keysRequestSchema, leaseRequestSchema, registerRequestSchema } from '@snowline/agent';
import { Public } from '../auth/principal';
import { badRequest } from '../common/problem';
import { IdempotentPost } from '../idempotency/idempotent-post';
import { AgentService } from './agent.service';

function parse<T>(schema: ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    throw badRequest(
      r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  return r.data;
}
const bearer = (h?: string) => /^Bearer\s+(\S+)$/i.exec(h ?? '')?.[1];

/** `/v1/agent/*`: spoken only by the host agent (libs/agent), authenticated by its bootstrap token. */
@Public()
@ApiExcludeController()
@Controller('v1/agent')
export class AgentController {
  constructor(private readonly agent: AgentService) {}

  @IdempotentPost('register')
  @HttpCode(200)
  async register(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
  ) {
    const req = parse(registerRequestSchema, body);
    return this.agent.register(await this.agent.authenticate(bearer(auth), req.hostId, ip), req);
  }

  @IdempotentPost('lease')
  @HttpCode(200)
  async lease(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
  ) {
    const req = parse(leaseRequestSchema, body);
    await this.agent.authenticate(bearer(auth), req.hostId, ip);
    return this.agent.lease(req.hostId, req);
  }

  @IdempotentPost('keys')
  @HttpCode(200)
  async keys(
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Ip() ip: string,
  ) {
    const req = parse(keysRequestSchema, body);
    await this.agent.authenticate(bearer(auth), req.hostId, ip);
    return this.agent.keys(req.hostId, req);
  }
}
