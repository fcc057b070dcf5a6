import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMicros, microsOf } from '../../../../../lib/domain/billing/amounts.js';

/** An amount string of the charge grammar: up to 9 integer digits, 0–6 decimals, a sign. */
const amount = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 999_999_999n }),
    fc.integer({ min: 0, max: 6 }),
    fc.bigInt({ min: 0n, max: 999_999n }),
    fc.boolean(),
  )
  .map(([whole, decimals, fraction, negative]) => {
    const digits = fraction.toString().padStart(6, '0').slice(0, decimals);
    const text = decimals === 0 ? whole.toString() : `${whole}.${digits}`;
    return negative ? `-${text}` : text;
  });

/** The reference: the sum in rational arithmetic over strings, as a scaled BigInt by hand. */
function referenceSum(amounts: readonly string[]): { whole: bigint; millionths: bigint } {
  let total = 0n;
  for (const text of amounts) {
    const negative = text.startsWith('-');
    const [whole = '0', fraction = ''] = text.replace('-', '').split('.');
    const value = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
    total += negative ? -value : value;
  }
  return { whole: total / 1_000_000n, millionths: total % 1_000_000n };
}

describe('amounts in micro-units', () => {
  it.each([
    ['0', 0n, '0.00'],
    ['12.5', 12_500_000n, '12.50'],
    ['0.000125', 125n, '0.000125'],
    ['-0.000001', -1n, '-0.000001'],
    ['-3', -3_000_000n, '-3.00'],
    ['999999999.999999', 999_999_999_999_999n, '999999999.999999'],
    ['0.1', 100_000n, '0.10'],
  ])('%s is %s micro-units, shown as %s', (text, micros, shown) => {
    expect(microsOf(text)).toBe(micros);
    expect(formatMicros(micros)).toBe(shown);
  });

  it('refuses what is not an amount', () => {
    for (const text of ['1e3', '+1', '.5', '1.', '0.1234567', '01', ' 1', '1,5', '']) {
      expect(() => microsOf(text), text).toThrow(RangeError);
    }
  });

  it('sums any charges exactly (property, against a reference over the strings)', () => {
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 200 }), (amounts) => {
        const sum = amounts.reduce((total, text) => total + microsOf(text), 0n);
        const { whole, millionths } = referenceSum(amounts);
        expect(sum).toBe(whole * 1_000_000n + millionths);
        const shown = formatMicros(sum);
        // What is shown reads back as the same value.
        expect(microsOf(shown.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''))).toBe(sum);
      }),
      { numRuns: 300 },
    );
  });

  it('shows at least two decimals and never drops a significant digit (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (micros) => {
        const shown = formatMicros(micros);
        expect(shown).toMatch(/^-?\d+\.\d{2,6}$/);
        expect(shown.endsWith('0') && /\.\d{3,}$/.test(shown)).toBe(false);
      }),
    );
  });
});

/** A signed number of micro-units as a digit string without leading zeros: the reference, in schoolbook arithmetic. */
interface DigitString {
  readonly negative: boolean;
  readonly digits: string;
}

const withoutLeadingZeros = (digits: string) => digits.replace(/^0+(?=\d)/, '');
const compareDigits = (a: string, b: string) =>
  a.length === b.length ? a.localeCompare(b) : a.length - b.length;

function addDigits(a: string, b: string): string {
  let carry = 0;
  let out = '';
  for (let index = 1; index <= Math.max(a.length, b.length); index += 1) {
    const sum = Number(a[a.length - index] ?? 0) + Number(b[b.length - index] ?? 0) + carry;
    out = String(sum % 10) + out;
    carry = sum >= 10 ? 1 : 0;
  }
  return withoutLeadingZeros(carry ? `1${out}` : out);
}

/** a − b for a ≥ b. */
function subtractDigits(a: string, b: string): string {
  let borrow = 0;
  let out = '';
  for (let index = 1; index <= a.length; index += 1) {
    let difference = Number(a[a.length - index]) - Number(b[b.length - index] ?? 0) - borrow;
    borrow = difference < 0 ? 1 : 0;
    if (difference < 0) difference += 10;
    out = String(difference) + out;
  }
  return withoutLeadingZeros(out);
}

function plus(x: DigitString, y: DigitString): DigitString {
  if (x.negative === y.negative)
    return { negative: x.negative, digits: addDigits(x.digits, y.digits) };
  const order = compareDigits(x.digits, y.digits);
  if (order === 0) return { negative: false, digits: '0' };
  const [larger, smaller] = order > 0 ? [x, y] : [y, x];
  return { negative: larger.negative, digits: subtractDigits(larger.digits, smaller.digits) };
}

const scaledDigits = (text: string): DigitString => {
  const [whole = '', fraction = ''] = text.replace('-', '').split('.');
  const digits = withoutLeadingZeros(whole + fraction.padEnd(6, '0'));
  return { negative: text.startsWith('-') && digits !== '0', digits };
};

/** How a total reads: the point 6 digits from the right, at least 2 decimals, no trailing zero beyond. */
const shownDigits = ({ negative, digits }: DigitString): string => {
  const padded = digits.padStart(7, '0');
  const whole = withoutLeadingZeros(padded.slice(0, -6));
  const fraction = padded.slice(-6).replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
};

describe('amounts against schoolbook arithmetic on their digits', () => {
  it.each([
    ['-0', '0.00'],
    ['-0.000000', '0.00'],
    ['0.000001', '0.000001'],
    ['1.010', '1.01'],
    ['-999999999.999999', '-999999999.999999'],
    ['100', '100.00'],
  ])('%s reads %s', (text, shown) => {
    expect(formatMicros(microsOf(text))).toBe(shown);
    expect(shownDigits(scaledDigits(text))).toBe(shown);
  });

  it('formats the BigInt sum of any charges as their sum in digit arithmetic (property)', () => {
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 300 }), (amounts) => {
        const micros = amounts.reduce((total, text) => total + microsOf(text), 0n);
        const reference = amounts.map(scaledDigits).reduce(plus, { negative: false, digits: '0' });
        expect(formatMicros(micros)).toBe(shownDigits(reference));
      }),
      { numRuns: 500 },
    );
  });

  it('reads back every total it shows (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), (micros) => {
        expect(microsOf(formatMicros(micros))).toBe(micros);
      }),
    );
  });
});
