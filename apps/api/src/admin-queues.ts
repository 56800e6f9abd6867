import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Repositories } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';
import { WebhookQueue } from './webhooks/webhook-queue';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** The API key from `Authorization: Bearer <key>` or Basic auth (password = key, for browsers). */
function keyFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1) || undefined;
}

/** Bull Board at /admin/queues, for admin keys of the operator (default) project only. */
export function mountAdminQueues(app: INestApplication): void {
  const repos = app.get(Repositories);
  const adapter = new ExpressAdapter();
  adapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [
      new BullMQAdapter(app.get(LifecycleQueue).queue, { readOnlyMode: false }),
      new BullMQAdapter(app.get(WebhookQueue).queue, { readOnlyMode: false }),
    ],
    serverAdapter: adapter,
  });
  const deny = (res: Response, status: number, detail: string) => {
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="Snowline admin"');
    res
      .status(status)
      .type('application/problem+json')
      .json({
        type: 'about:blank',
        status,
        title: status === 401 ? 'Unauthorized' : 'Forbidden',
        detail,
        requestId: String(res.getHeader('x-request-id') ?? ''),
      });
  };
  const auth = (req: Request, res: Response, next: NextFunction) => {
    const secret = keyFrom(req.header('authorization'));
    if (!secret || secret.length < 16 || secret.length > 512)
      return deny(
        res,
        401,
        'Send an operator admin API key (Bearer, or Basic with the key as password).',
      );
    repos.apiKeys
      .findActiveBySecret(secret)
      .then(async (key) => {
        if (!key) return deny(res, 401, 'API key not recognised: it is unknown or revoked.');
        const project = await repos.projects.findById(key.projectId);
        if (!key.scopes.includes('admin') || !project?.isDefault)
          return deny(res, 403, 'Bull Board needs an admin key of the operator (default) project.');
        next();
      })
      .catch(next);
  };
  app.use(ADMIN_QUEUES_PATH, auth, adapter.getRouter());
}
