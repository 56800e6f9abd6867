import fc from 'fast-check';
import { types } from 'pg';
import { parseTimestamptz, PG_TYPES, readTimestamptz } from './pg-types';

const slow = types.getTypeParser(1184, 'text') as (s: string) => unknown;
const pad = (n: number, w: number) => String(Math.abs(n)).padStart(w, '0');
const same = (s: string, fast = true) => {
  expect({ s, fast: readTimestamptz(s) !== null }).toEqual({ s, fast });
  const a = parseTimestamptz(s);
  const b = slow(s);
  if (a instanceof Date && b instanceof Date) {
    expect({ s, t: a.getTime() }).toEqual({ s, t: b.getTime() });
  } else {
    expect({ s, v: a }).toEqual({ s, v: b });
  }
};

describe('timestamptz parser', () => {
  it('should read what Postgres prints exactly as pg-types does', () => {
    for (const s of [
      '2026-11-26 05:28:24.123456+00',
      '2026-11-26 05:28:24+00',
      '2026-11-26 05:28:24.1+00',
      '2026-11-26 05:28:24.99+00',
      '2026-11-26 05:28:24.999999+00',
      '2026-11-26 05:28:24.5+05:30',
      '2026-11-26 05:28:24-08',
      '2026-02-28 23:59:59.000001-09:30',
      '1970-01-01 00:00:00+00',
      '1969-12-31 23:59:59.999+00',
      '9999-12-31 23:59:59.999999+14',
    ]) {
      same(s);
    }
  });

  it('should hand the rare shapes to pg-types', () => {
    for (const s of [
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00',
      '0044-03-15 12:00:00+00 BC',
      '1900-01-01 00:00:00+00:19:32',
      '12345-01-01 00:00:00+00',
    ]) {
      same(s, false);
    }
  });

  it('should agree with pg-types on any timestamp and offset', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z') }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: -15 * 60, max: 15 * 60 }),
        fc.boolean(),
        (d, micros, digits, offsetMin, colon) => {
          if (Number.isNaN(d.getTime())) return;
          const iso = d.toISOString();
          const frac = digits ? `.${pad(micros, 6).slice(0, digits)}` : '';
          const sign = offsetMin < 0 ? '-' : '+';
          const off =
            offsetMin % 60 || colon
              ? `${sign}${pad(Math.trunc(offsetMin / 60), 2)}:${pad(offsetMin % 60, 2)}`
              : `${sign}${pad(offsetMin / 60, 2)}`;
          same(`${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}${off}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('should install only for timestamptz text, leaving every other type to pg', () => {
    expect(PG_TYPES.getTypeParser(1184)).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(1184, 'text')).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(1184, 'binary')).toBe(types.getTypeParser(1184, 'binary'));
    expect(PG_TYPES.getTypeParser(3802)).toBe(types.getTypeParser(3802));
    const textArray = 1009 as Parameters<typeof types.getTypeParser>[0]; // text[], not in pg's TypeId
    expect(PG_TYPES.getTypeParser(textArray)).toBe(types.getTypeParser(textArray));
  });
});
