import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { Problem } from './problem';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Every error leaves as application/problem+json with the request's correlation id. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const requestId = req.id ?? String(res.getHeader('x-request-id') ?? '');
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: Record<string, unknown> = {};
    if (exception instanceof Problem) {
      status = exception.getStatus();
      body = { title: exception.title, detail: exception.detail, ...exception.extra };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const r = exception.getResponse();
      const message =
        typeof r === 'string' ? r : ((r as { message?: unknown }).message ?? exception.message);
      const errors = Array.isArray(message) ? message.map(String) : undefined;
      body = {
        title: TITLES[status] ?? exception.name,
        detail: errors ? errors.join('; ') : String(message),
        ...(errors ? { errors } : {}),
      };
    } else if (isBodyParserError(exception)) {
      status = exception.status;
      body = {
        title: TITLES[status] ?? 'Bad Request',
        detail:
          exception.type === 'entity.too.large'
            ? `The request body is larger than ${exception.limit} bytes.`
            : 'The request body is not valid JSON.',
      };
    } else {
      this.log.error(
        { requestId, err: exception instanceof Error ? exception.stack : String(exception) },
        'unhandled error',
      );
      body = {
        title: TITLES[500],
        detail: 'An internal error occurred; quote the request id to support.',
      };
    }
    if (res.headersSent) return;
    // A 429 says when to come back in the header clients and proxies read, not only in the body.
    if (
      status === 429 &&
      typeof body.retryAfterSeconds === 'number' &&
      !res.getHeader('retry-after')
    )
      res.setHeader('Retry-After', String(body.retryAfterSeconds));
    res
      .status(status)
      .type('application/problem+json')
      .json({ type: 'about:blank', status, ...body, requestId });
  }
}

function isBodyParserError(e: unknown): e is { status: number; type: string; limit?: number } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
