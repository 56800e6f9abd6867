import fc from 'fast-check';
import { isoTime } from './iso-time';

describe(isoTime.name, () => {
  it('should give exactly what toISOString gives, for any date it can print', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          // Mostly the fast path (1970 to 9999), and the whole range a Date holds.
          { weight: 9, arbitrary: fc.integer({ min: 0, max: 253_402_300_799_999 }) },
          { weight: 1, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }) },
        ),
        (t) => {
          const d = new Date(t);
          expect(isoTime(d)).toBe(d.toISOString());
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('should agree on the edges: the epoch, day and year ends, leap days, year 9999 and 10000', () => {
    for (const s of [
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2024-02-29T23:59:59.999Z',
      '2100-03-01T00:00:00.000Z',
      '2000-02-29T12:00:00.001Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00.000Z',
    ]) {
      const d = new Date(s);
      expect(isoTime(d)).toBe(d.toISOString());
      // Twice, so the remembered day is used too.
      expect(isoTime(new Date(d.getTime()))).toBe(s);
    }
    // Rows of one day in turn with another day between them: the remembered date part follows.
    const a = new Date('2026-11-26T05:28:24.123Z');
    const b = new Date('2026-11-25T23:00:00.000Z');
    expect([isoTime(a), isoTime(b), isoTime(a)]).toEqual([
      a.toISOString(),
      b.toISOString(),
      a.toISOString(),
    ]);
  });

  it('should throw as toISOString does for an invalid date', () => {
    expect(() => isoTime(new Date(NaN))).toThrow(RangeError);
  });
});
