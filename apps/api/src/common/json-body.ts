import { json, type NextFunction, type Request, type Response } from 'express';
import { Problem } from './problem';

/**
 * The JSON body parser, with its errors turned into problems that say what to fix (Nest would
 * otherwise answer with body-parser's bare message).
 */
export function jsonBody(limitKb: number) {
  const parse = json({
    limit: `${limitKb}kb`,
    // Agent requests are signed over their exact bytes (libs/agent host-credential.ts).
    verify: (req, _res, buf) => {
      if ((req as Request).url?.startsWith('/v1/agent/'))
        (req as Request & { rawBody?: Buffer }).rawBody = buf;
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    // A body the parser would skip (no JSON media type) must not reach validation as `{}`: that
    // answered "network must be one of …" for a network that was sent.
    if (hasBody(req) && !req.is(['application/json', 'application/*+json'])) {
      const sent = req.headers['content-type'];
      return next(
        new Problem(
          415,
          'Unsupported Media Type',
          `The request body must be JSON: send it with \`Content-Type: application/json\` (${sent ? `got \`${sent.slice(0, 100)}\`` : 'no Content-Type was sent'}).`,
        ),
      );
    }
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { status?: number; type?: string; message?: string };
      if (e.type === 'entity.too.large')
        return next(
          new Problem(413, 'Payload Too Large', `The request body is larger than ${limitKb} KiB.`),
        );
      if (e.type === 'entity.parse.failed')
        return next(
          new Problem(
            400,
            'Bad Request',
            `The request body is not valid JSON (${String(e.message).slice(0, 200)}); send a JSON object.`,
          ),
        );
      const status = e.status && e.status >= 400 && e.status < 500 ? e.status : 400;
      return next(
        new Problem(
          status,
          status === 415 ? 'Unsupported Media Type' : 'Bad Request',
          `The request body could not be read (${String(e.message).slice(0, 200)}); send UTF-8 JSON.`,
        ),
      );
    });
  };
}

/** Whether the request carries body bytes (a declared length above 0, or a chunked body). */
function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}
