/** Billing periods (§9): monthly, `YYYY-MM`, in the customer's timezone. */

export const periodPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

const monthFormats = new Map<string, Intl.DateTimeFormat>();

const monthFormatIn = (timeZone: string): Intl.DateTimeFormat => {
  let format = monthFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit' });
    monthFormats.set(timeZone, format);
  }
  return format;
};

/** The period an instant falls in, read on a calendar in `timeZone` (an IANA name). */
export function periodOf(instant: Date, timeZone: string): string {
  const parts = monthFormatIn(timeZone).formatToParts(instant);
  const year = parts.find((part) => part.type === 'year')?.value;
  const month = parts.find((part) => part.type === 'month')?.value;
  return `${year}-${month}`;
}

/** The period after `period`. */
export function nextPeriod(period: string): string {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
}

/** The period before `period`. */
export function previousPeriod(period: string): string {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
}
