/**
 * Exact decimal arithmetic for prices (§1: never binary floating point; rounding is half-up).
 *
 * A value is a BigInt count of units of 10^-scale, so sums and products are exact at any
 * scale and only `roundHalfUp` ever drops digits. There is no sign: costs, fees and markups
 * are never negative (§8), so the grammar refuses `-` and every operation here keeps values
 * non-negative, which is what lets half-up rounding be "add half, truncate".
 */
export type Decimal = {
  /** The value times 10^scale; never negative. */
  readonly units: bigint;
  readonly scale: number;
};

/** The most decimals a money or percent string may carry, and the most a price is rounded to. */
export const maxDecimals = 6;

/**
 * A canonical non-negative decimal string: digits without leading zeros (`0` alone is fine),
 * optionally a dot and 1 to 6 decimals. No sign, exponent, bare `.5`, trailing `.` or spaces.
 */
export const decimalPattern = /^(0|[1-9]\d*)(?:\.(\d{1,6}))?$/;

const pow10 = (exponent: number): bigint => 10n ** BigInt(exponent);

/** The same value counted in units of 10^-scale, for a scale at least the value's own. */
const unitsAt = (value: Decimal, scale: number): bigint => value.units * pow10(scale - value.scale);

const assertDecimals = (decimals: number): void => {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > maxDecimals) {
    throw new RangeError(`decimals must be an integer from 0 to ${maxDecimals}, got ${decimals}`);
  }
};

/** Parses a canonical decimal string (see `decimalPattern`); anything else is a RangeError. */
export const parseDecimal = (text: string): Decimal => {
  const match = decimalPattern.exec(text);
  if (!match) throw new RangeError(`not a canonical decimal string: ${JSON.stringify(text)}`);
  const [, whole = '', fraction = ''] = match;
  return { units: BigInt(whole + fraction), scale: fraction.length };
};

export const addDecimals = (a: Decimal, b: Decimal): Decimal => {
  const scale = Math.max(a.scale, b.scale);
  return { units: unitsAt(a, scale) + unitsAt(b, scale), scale };
};

export const multiplyDecimals = (a: Decimal, b: Decimal): Decimal => ({
  units: a.units * b.units,
  scale: a.scale + b.scale,
});

/** Exact: dividing by 100 only moves the decimal point two places. */
export const divideBy100 = (value: Decimal): Decimal => ({
  units: value.units,
  scale: value.scale + 2,
});

export const compareDecimals = (a: Decimal, b: Decimal): -1 | 0 | 1 => {
  const scale = Math.max(a.scale, b.scale);
  const difference = unitsAt(a, scale) - unitsAt(b, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};

/** Rounds to 0–6 decimals, a half going up (never negative, so up is away from zero). */
export const roundHalfUp = (value: Decimal, decimals: number): Decimal => {
  assertDecimals(decimals);
  if (value.scale <= decimals) return { units: unitsAt(value, decimals), scale: decimals };
  const divisor = pow10(value.scale - decimals);
  return { units: (value.units + divisor / 2n) / divisor, scale: decimals };
};

/** Rounds half-up to 0–6 decimals and writes exactly that many: `12.50`, or `13` for 0. */
export const formatDecimal = (value: Decimal, decimals: number): string => {
  const digits = roundHalfUp(value, decimals)
    .units.toString()
    .padStart(decimals + 1, '0');
  if (decimals === 0) return digits;
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
};

/** True for "0", "0.00" and the like. */
export const isZeroDecimal = (text: string): boolean => parseDecimal(text).units === 0n;
