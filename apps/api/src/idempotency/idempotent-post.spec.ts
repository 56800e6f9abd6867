import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import {
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { CONTROLLERS } from '../app.module';
import { IdempotencyRunnerPipe } from './idempotent-post';

/** Every route handler of the API with its HTTP method and the interceptors on it. */
function routes() {
  return CONTROLLERS.flatMap((controller) => {
    const proto = controller.prototype as unknown as Record<string, unknown>;
    return Object.getOwnPropertyNames(proto)
      .filter((name) => name !== 'constructor' && typeof proto[name] === 'function')
      .map((name) => proto[name] as object)
      .filter((fn) => Reflect.getMetadata(METHOD_METADATA, fn) !== undefined)
      .map((fn) => ({
        route: `${controller.name}.${(fn as { name: string }).name}`,
        method: Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod,
        idempotent: Object.values(
          (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, (fn as { name: string }).name) ??
            {}) as Record<string, { pipes?: unknown[] }>,
        ).some((arg) => arg.pipes?.includes(IdempotencyRunnerPipe)),
        interceptors: [
          ...((Reflect.getMetadata(INTERCEPTORS_METADATA, controller) as unknown[]) ?? []),
          ...((Reflect.getMetadata(INTERCEPTORS_METADATA, fn) as unknown[]) ?? []),
        ],
      }));
  });
}

describe('IdempotentPost', () => {
  const all = routes();

  it('finds the API routes', () => {
    expect(all.filter((r) => r.method === RequestMethod.POST).length).toBeGreaterThanOrEqual(10);
    expect(all.filter((r) => r.method === RequestMethod.GET).length).toBeGreaterThanOrEqual(10);
  });

  it('every POST route handles Idempotency-Key', () => {
    const missing = all
      .filter((r) => r.method === RequestMethod.POST)
      .filter((r) => !r.idempotent)
      .map((r) => r.route);
    expect(missing).toEqual([]);
  });

  it('no route carries a Nest interceptor (each costs an RxJS pipeline per request)', () => {
    const heavy = all.filter((r) => r.interceptors.length > 0).map((r) => r.route);
    expect(heavy).toEqual([]);
  });
});
