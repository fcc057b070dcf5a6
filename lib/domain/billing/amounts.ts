/**
 * Charge amounts and invoice totals as exact integers of micro-units (10^-6, the most
 * decimals an amount may carry, §9). DynamoDB adds integers exactly (38 digits), so a
 * total is kept with `ADD` and never rewritten from a read; the document client hands
 * a large one back as a BigInt.
 */

/** A signed decimal string with at most 6 decimals: `12`, `-0.5`, `0.000001`; no exponent or `+`. */
export const signedAmountPattern = /^-?(0|[1-9]\d*)(?:\.(\d{1,6}))?$/;

const microsPerUnit = 1_000_000n;

/** The micro-units of an amount string (see `signedAmountPattern`); anything else is a RangeError. */
export function microsOf(amount: string): bigint {
  const match = signedAmountPattern.exec(amount);
  if (!match) throw new RangeError(`not an amount: ${JSON.stringify(amount)}`);
  const [, whole = '', fraction = ''] = match;
  const magnitude = BigInt(whole) * microsPerUnit + BigInt(fraction.padEnd(6, '0'));
  return amount.startsWith('-') ? -magnitude : magnitude;
}

/**
 * A total as a decimal string with as many decimals as it needs and at least two:
 * `12.50`, `0.000125`, `-3.00`. Exact: no rounding ever happens here.
 */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const magnitude = negative ? -micros : micros;
  const whole = magnitude / microsPerUnit;
  const fraction = (magnitude % microsPerUnit).toString().padStart(6, '0').replace(/0+$/, '');
  const text = `${whole}.${fraction.padEnd(2, '0')}`;
  return negative ? `-${text}` : text;
}
