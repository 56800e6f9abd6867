import {
  createParamDecorator,
  Injectable,
  Post,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { HttpArgumentsHost } from '@nestjs/common/interfaces';
import type { Request, Response } from 'express';
import { IdempotencyService } from './idempotency.service';

type Runner = <T>(work: () => Promise<T>) => Promise<T>;

/** Turns the request into a runner bound to it (a pipe, so Nest injects the service). */
@Injectable()
export class IdempotencyRunnerPipe implements PipeTransform<HttpArgumentsHost, Runner> {
  constructor(private readonly idempotency: IdempotencyService) {}
  transform(http: HttpArgumentsHost): Runner {
    return (work) =>
      this.idempotency.run(http.getRequest<Request>(), http.getResponse<Response>(), work);
  }
}

/** The hidden last argument `@IdempotentPost()` adds to a handler. Exported for the route test. */
export const IdempotencyRunner = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  ctx.switchToHttp(),
);

/**
 * `@Post()` with `Idempotency-Key` handling; every POST route of the public API uses it (a unit test
 * walks the controllers to hold that). Write it above the route's other decorators.
 *
 * It wraps the handler rather than adding a Nest interceptor: Nest runs any interceptor through an
 * RxJS pipeline and two `AsyncResource.bind`s per request, and on Node 20 each bind builds deprecated
 * accessors with `Object.setPrototypeOf` — measured at ~15 % of a create's CPU and half its GC pause
 * time. The wrapper gets the request through one extra, hidden handler argument.
 */
export const IdempotentPost =
  (path?: string): MethodDecorator =>
  (target, key, descriptor) => {
    const handler = descriptor.value as unknown as (...args: unknown[]) => unknown;
    const declared = Object.keys(
      (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) as object) ?? {},
    ).map((k) => Number(k.split(':').pop()));
    const index = Math.max(handler.length, ...declared.map((i) => i + 1));
    IdempotencyRunner(IdempotencyRunnerPipe)(target, key, index);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const run = args[index] as Runner;
      return run(async () => handler.apply(this, args.slice(0, index)));
    };
    // The route's other decorators (status code, scope, OpenAPI) put their metadata on the handler.
    for (const k of Reflect.getOwnMetadataKeys(handler) as unknown[])
      Reflect.defineMetadata(k, Reflect.getOwnMetadata(k, handler), wrapped);
    Object.defineProperty(wrapped, 'name', { value: handler.name });
    (descriptor as { value: unknown }).value = wrapped;
    Post(path)(target, key, descriptor);
  };
