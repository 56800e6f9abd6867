import IORedis, { type RedisOptions } from 'ioredis';

/** One ioredis connection as BullMQ wants it (no per-command retry limit for blocking workers). */
export function createRedis(url: string, opts: RedisOptions = {}): IORedis {
  return new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts });
}
