import { applyDecorators, Post, UseInterceptors } from '@nestjs/common';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * `@Post()` with `Idempotency-Key` handling. Every POST route uses this instead of `@Post()` (a unit
 * test walks the app's controllers to hold that). The interceptor sits on the POST routes only, not
 * globally: Nest runs any interceptor through an RxJS pipeline and two `AsyncResource.bind`s per
 * request, which measured ~250 µs of CPU on every GET that had nothing to do with idempotency.
 */
export const IdempotentPost = (path?: string): MethodDecorator =>
  applyDecorators(Post(path), UseInterceptors(IdempotencyInterceptor));
