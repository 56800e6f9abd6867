import type { NextFunction, Request, Response } from 'express';
import { AGENT_PATHS, leaseRequestSchema } from '@snowline/agent';
import type { AgentService } from './agent.service';

/**
 * `POST /v1/agent/lease` on its fast path, ahead of Nest's router (issue 20: about 1,000 renewals a
 * second at 10,000 hosts). A plain renewal — a signed request from a host whose key this replica
 * knows, renewed by one statement (`AgentService.leaseFast`) — is answered here without Nest's
 * routing, guards, pipes and per-request logging; everything else (a first renewal, an assignment
 * changing, a bad signature, a fence, any error) falls through to `AgentController.lease`, which
 * decides with the full rule and answers every error as a problem. The answer is sent only after the
 * statement committed, as on the full path: an acknowledged renewal is durable.
 */
export function leaseFastMiddleware(agent: AgentService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' || req.url !== AGENT_PATHS.lease) return next();
    const parsed = leaseRequestSchema.safeParse(req.body);
    if (!parsed.success) return next(); // the controller says what to fix
    agent
      .leaseFast(
        {
          header: req.headers.authorization,
          path: AGENT_PATHS.lease,
          rawBody: (req as Request & { rawBody?: Buffer }).rawBody,
          client: req.ip ?? '',
        },
        parsed.data,
      )
      .then(
        (fast) => {
          if (!fast) return next();
          res.status(200).json(fast);
        },
        // A database error on the fast path: the full path tries again and answers it properly.
        () => next(),
      );
  };
}
