import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// Built by `npm run build:console` into dist/console; this file runs from dist/apps/api/src.
const CONSOLE_DIR = join(__dirname, '..', '..', '..', 'console');

// Paths the API owns are never answered with the console: a wrong API path stays a problem+json 404.
const API_PATHS = /^\/(v1|docs|docs-json|healthz|readyz|metrics|admin)(\/|$)/;

/**
 * The web console: its hashed assets under /assets, and index.html for any other browser GET that is
 * not an API path (the console routes in the browser). Without a build (unit tests) nothing is mounted.
 */
export function mountConsole(app: INestApplication, dir = CONSOLE_DIR): void {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return;
  (app as NestExpressApplication).useStaticAssets(join(dir, 'assets'), {
    prefix: '/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path)) return next();
    if (req.path.startsWith('/assets/') || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
