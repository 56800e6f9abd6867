import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { LOG_SECRET_PATHS, type AppConfig } from '@snowline/config';

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * pino-http options: one line per request with the correlation id; headers are never logged (they
 * carry API keys), only method, path and status.
 */
export function loggerParams(config: AppConfig, stream?: DestinationStream): Params {
  const options = {
    level: config.logLevel,
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
    customAttributeKeys: { reqId: 'requestId' },
    // Our serializers see the raw req/res: pino's standard ones would first copy every header.
    wrapSerializers: false,
    quietReqLogger: true,
    serializers: {
      req: (req: IncomingMessage) => ({
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    redact: {
      paths: ['req.headers', 'res.headers', ...LOG_SECRET_PATHS],
      censor: '[redacted]',
    },
    autoLogging: {
      ignore: (req: IncomingMessage) => QUIET.has((req.url ?? '').split('?')[0] ?? ''),
    },
    // A renewed lease is the steady state (every host, every 10 s): debug, not a line per renewal.
    customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500
        ? ('error' as const)
        : res.statusCode === 200 && req.url === '/v1/agent/lease'
          ? ('debug' as const)
          : ('info' as const),
  };
  // `stream`: tests capture the output; otherwise pino writes to stdout.
  return { pinoHttp: stream ? [options, stream] : options };
}
