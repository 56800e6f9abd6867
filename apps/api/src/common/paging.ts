import { ApiQuery } from '@nestjs/swagger';
import { badRequest } from './problem';

/** The `limit` query parameter as the document declares it: what parseLimit accepts. */
export const ApiLimitQuery = () =>
  ApiQuery({
    name: 'limit',
    required: false,
    description: '1–100, default 50',
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
  });

/** `limit` query parameter: an integer 1–100 (default 50). */
export function parseLimit(raw: unknown, def = 50): number {
  if (raw === undefined) return def;
  const n = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw badRequest('limit: must be an integer from 1 to 100.');
  return n;
}

/** A short single-valued query string, or a 400 naming it. */
export function parseShortString(name: string, raw: unknown, max = 256): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > max)
    throw badRequest(`${name}: must be given once, as a string of at most ${max} characters.`);
  return raw;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A path id: a UUID, else 400 (never a 500 from Postgres' uuid parser). */
export function parseId(what: string, raw: string): string {
  if (!UUID_RE.test(raw)) throw badRequest(`${what}: must be a UUID.`);
  return raw.toLowerCase();
}
