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
});
