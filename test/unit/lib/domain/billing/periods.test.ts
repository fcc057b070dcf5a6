import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodEndedEverywhereAt } from '../../../../../lib/domain/billing/period-close.js';
import { nextPeriod, periodOf, previousPeriod } from '../../../../../lib/domain/billing/periods.js';

describe('periods', () => {
  it.each([
    ['2026-11-30T23:30:00Z', 'UTC', '2026-11'],
    ['2026-11-30T23:30:00Z', 'Europe/Berlin', '2026-12'],
    ['2026-12-01T00:30:00Z', 'America/New_York', '2026-11'],
    ['2026-12-31T10:00:00Z', 'Pacific/Kiritimati', '2027-01'],
    ['2027-01-01T10:59:59Z', 'Pacific/Pago_Pago', '2026-12'],
    ['2027-01-01T11:00:00Z', 'Pacific/Pago_Pago', '2027-01'],
    // The night the clocks go back in Berlin still ends October in Berlin's time.
    ['2026-10-31T22:59:59Z', 'Europe/Berlin', '2026-10'],
    ['2026-10-31T23:00:00Z', 'Europe/Berlin', '2026-11'],
  ])('%s in %s is period %s', (instant, timeZone, period) => {
    expect(periodOf(new Date(instant), timeZone)).toBe(period);
  });

  it('steps across years', () => {
    expect(nextPeriod('2026-12')).toBe('2027-01');
    expect(previousPeriod('2027-01')).toBe('2026-12');
    expect(nextPeriod('2026-09')).toBe('2026-10');
    expect(previousPeriod('2026-10')).toBe('2026-09');
  });

  it('goes back where it came from (property)', () => {
    const period = fc
      .tuple(fc.integer({ min: 2000, max: 2999 }), fc.integer({ min: 1, max: 12 }))
      .map(([year, month]) => `${year}-${String(month).padStart(2, '0')}`);
    fc.assert(
      fc.property(period, (p) => {
        expect(nextPeriod(previousPeriod(p))).toBe(p);
        expect(previousPeriod(nextPeriod(p))).toBe(p);
        expect(nextPeriod(p) > p).toBe(true);
      }),
    );
  });

  it('ends a period everywhere at 12:00 UTC on the next month’s first day, when it has ended at UTC−12', () => {
    const end = periodEndedEverywhereAt('2026-11');
    expect(end.toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(periodOf(new Date(end.getTime() - 1), 'Etc/GMT+12')).toBe('2026-11');
    expect(periodOf(end, 'Etc/GMT+12')).toBe('2026-12');
    expect(periodEndedEverywhereAt('2026-12').toISOString()).toBe('2027-01-01T12:00:00.000Z');
  });

  it.each([
    ['9999-12', '+010000-01-01T12:00:00.000Z'],
    ['0000-01', '0000-02-01T12:00:00.000Z'],
    ['0050-12', '0051-01-01T12:00:00.000Z'],
  ])('ends %s at a valid instant, however far its year', (period, end) => {
    expect(periodEndedEverywhereAt(period).toISOString()).toBe(end);
  });
});

/** The hour offset from UTC of a zone without daylight saving time since 2000. */
const fixedOffsets = { UTC: 0, 'Pacific/Kiritimati': 14, 'Pacific/Pago_Pago': -11 } as const;

/** Berlin's offset by the EU rule: +2 from 01:00 UTC on March’s last Sunday to 01:00 UTC on October’s, +1 otherwise. */
const berlinOffsetAt = (instant: Date): number => {
  const lastSundayAtOne = (month: number) => {
    const last = new Date(Date.UTC(instant.getUTCFullYear(), month + 1, 0, 1));
    return last.getTime() - last.getUTCDay() * 86_400_000;
  };
  const at = instant.getTime();
  return at >= lastSundayAtOne(2) && at < lastSundayAtOne(9) ? 2 : 1;
};

/** The UTC calendar month of an instant shifted by an offset in hours. */
const monthAtOffset = (instant: Date, hours: number) =>
  new Date(instant.getTime() + hours * 3_600_000).toISOString().slice(0, 7);

describe('periods at month ends', () => {
  it.each([
    ['2026-06-30T21:59:59.999Z', 'Europe/Berlin', '2026-06'],
    ['2026-06-30T22:00:00.000Z', 'Europe/Berlin', '2026-07'],
    // 29 March 2026: Berlin’s clocks went forward, so March ended at 22:00 UTC.
    ['2026-03-31T21:59:59.999Z', 'Europe/Berlin', '2026-03'],
    ['2026-03-31T22:00:00.000Z', 'Europe/Berlin', '2026-04'],
    ['2027-02-28T22:59:59.999Z', 'Europe/Berlin', '2027-02'],
    ['2028-02-29T23:00:00.000Z', 'Europe/Berlin', '2028-03'],
    ['2026-11-30T09:59:59.999Z', 'Pacific/Kiritimati', '2026-11'],
    ['2026-11-30T10:00:00.000Z', 'Pacific/Kiritimati', '2026-12'],
    ['2026-12-01T10:59:59.999Z', 'Pacific/Pago_Pago', '2026-11'],
    ['2026-12-31T23:59:59.999Z', 'UTC', '2026-12'],
    ['2027-01-01T00:00:00.000Z', 'UTC', '2027-01'],
  ])('%s in %s is period %s', (instant, timeZone, period) => {
    expect(periodOf(new Date(instant), timeZone)).toBe(period);
  });

  it('is the month of the local calendar in zones at +14, −11, UTC and Berlin (property)', () => {
    const instant = fc.date({
      min: new Date('2001-01-01T00:00:00Z'),
      max: new Date('2037-12-31T23:59:59Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instant, (at) => {
        for (const [timeZone, hours] of Object.entries(fixedOffsets)) {
          expect(periodOf(at, timeZone), timeZone).toBe(monthAtOffset(at, hours));
        }
        expect(periodOf(at, 'Europe/Berlin')).toBe(monthAtOffset(at, berlinOffsetAt(at)));
      }),
      { numRuns: 2000 },
    );
  });

  it('is the local month in the last and first hour around every Berlin month end (property)', () => {
    const monthEnd = fc
      .tuple(
        fc.integer({ min: 2001, max: 2037 }),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: -7_200_000, max: 7_200_000 }),
      )
      .map(([year, month, shift]) => new Date(Date.UTC(year, month + 1, 1) - 3_600_000 + shift));
    fc.assert(
      fc.property(monthEnd, (at) => {
        expect(periodOf(at, 'Europe/Berlin')).toBe(monthAtOffset(at, berlinOffsetAt(at)));
      }),
      { numRuns: 1000 },
    );
  });
});
