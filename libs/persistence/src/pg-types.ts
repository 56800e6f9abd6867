import { types } from 'pg';

const TIMESTAMPTZ = 1184;
const parseTimestamptzSlow = types.getTypeParser(TIMESTAMPTZ, 'text') as (s: string) => unknown;

/** Two ASCII digits at `i` as a number, NaN when either is not a digit. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * A `timestamptz` as Postgres prints it (DateStyle ISO: `2026-11-26 05:28:24.123456+00`, offsets
 * `+05:30` or `-08`) → a Date, read by position instead of by pg-types' three regular expressions
 * (a list of 20 validators parses 80 of these; the regex parser was ~4 % of the list route's CPU).
 * Anything else — BC years, `infinity`, years before 100, offsets with seconds — goes to pg-types'
 * own parser, so the result is always the one it would give (the tests compare them).
 */
export function parseTimestamptz(s: string): unknown {
  return readTimestamptz(s) ?? parseTimestamptzSlow(s);
}

/** The common shape of `timestamptz` text → a Date; null for anything else. */
export function readTimestamptz(s: string): Date | null {
  const n = s.length;
  if (
    n < 22 ||
    s.charCodeAt(4) !== 45 /* - */ ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 32 /* space */ ||
    s.charCodeAt(13) !== 58 /* : */ ||
    s.charCodeAt(16) !== 58
  ) {
    return null;
  }
  const year = d2(s, 0) * 100 + d2(s, 2);
  const month = d2(s, 5);
  const day = d2(s, 8);
  const hour = d2(s, 11);
  const minute = d2(s, 14);
  const second = d2(s, 17);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    let scale = 100;
    for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) {
      ms += c * scale; // milliseconds, truncated like pg-types (digits past the third add 0)
      scale /= 10;
      if (scale < 1) scale = 0;
    }
  }
  const sign = s.charCodeAt(i);
  if (sign !== 43 /* + */ && sign !== 45 /* - */) return null;
  let offset = d2(s, i + 1) * 60;
  i += 3;
  if (i < n && s.charCodeAt(i) === 58) {
    offset += d2(s, i + 1);
    i += 3;
  }
  if (i !== n || year < 100) return null;
  const t =
    Date.UTC(year, month - 1, day, hour, minute, second, ms) -
    (sign === 45 ? -offset : offset) * 60_000;
  return Number.isNaN(t) ? null : new Date(t);
}

/**
 * The type parsers Snowline's pool uses: pg's defaults, with `timestamptz` read by position. Every
 * timestamp column is `timestamptz` (the migrations use no bare `timestamp`).
 */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === TIMESTAMPTZ && format !== 'binary') return parseTimestamptz;
    return format === 'binary' ? types.getTypeParser(oid, 'binary') : types.getTypeParser(oid);
  },
};
