import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDecimals,
  compareDecimals,
  type Decimal,
  divideBy100,
  formatDecimal,
  multiplyDecimals,
  parseDecimal,
  roundHalfUp,
} from '../../../../../lib/domain/dids/money.js';

import {
  plus,
  type Rational,
  rational,
  referenceRound,
  referenceString,
  ten,
  times,
} from '../../../../fixtures/reference-rational.js';

const sameValue = (value: Decimal, expected: Rational): boolean =>
  value.units * expected.denominator === expected.numerator * ten(value.scale);

const decimals = fc.integer({ min: 0, max: 6 });
/** A non-negative amount below 10^12 with 0 to 6 decimals, as integers and as its string. */
const amount = decimals.chain((places) =>
  fc.bigInt({ min: 0n, max: ten(12 + places) - 1n }).map((units) => ({
    units,
    places,
    text: referenceString(units, places),
  })),
);

describe('parseDecimal', () => {
  it.each([
    '',
    ' 1',
    '1 ',
    '+1',
    '-1',
    '-0.5',
    '.5',
    '1.',
    '007',
    '00',
    '00.5',
    '1e3',
    '1E-2',
    '1.1234567',
    '0.0000005',
    '1,5',
    '0x10',
    'NaN',
    'Infinity',
    '١٢',
  ])('refuses %j', (text) => {
    expect(() => parseDecimal(text)).toThrow(RangeError);
  });

  it('keeps every digit of a canonical string', () => {
    fc.assert(
      fc.property(amount, ({ units, places, text }) => {
        expect(sameValue(parseDecimal(text), rational(units, places))).toBe(true);
        expect(formatDecimal(parseDecimal(text), places)).toBe(text);
      }),
    );
  });
});

describe('exact arithmetic', () => {
  it('adds exactly', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const sum = addDecimals(parseDecimal(a.text), parseDecimal(b.text));
        expect(sameValue(sum, plus(rational(a.units, a.places), rational(b.units, b.places)))).toBe(
          true,
        );
      }),
    );
  });

  it('multiplies exactly', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const product = multiplyDecimals(parseDecimal(a.text), parseDecimal(b.text));
        expect(
          sameValue(product, times(rational(a.units, a.places), rational(b.units, b.places))),
        ).toBe(true);
      }),
    );
  });

  it('divides by 100 exactly', () => {
    fc.assert(
      fc.property(amount, (a) => {
        const hundredth = divideBy100(parseDecimal(a.text));
        expect(
          sameValue(hundredth, { numerator: a.units, denominator: ten(a.places) * 100n }),
        ).toBe(true);
      }),
    );
  });

  it('compares by value, whatever the decimals', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const left = a.units * ten(b.places);
        const right = b.units * ten(a.places);
        const expected = left < right ? -1 : left > right ? 1 : 0;
        expect(compareDecimals(parseDecimal(a.text), parseDecimal(b.text))).toBe(expected);
      }),
    );
    expect(compareDecimals(parseDecimal('12.5'), parseDecimal('12.500000'))).toBe(0);
  });
});

describe('half-up rounding', () => {
  it('matches the reference for products rounded to 0–6 decimals', () => {
    fc.assert(
      fc.property(amount, amount, decimals, (a, b, places) => {
        const product = multiplyDecimals(parseDecimal(a.text), parseDecimal(b.text));
        expect(formatDecimal(product, places)).toBe(
          referenceRound(times(rational(a.units, a.places), rational(b.units, b.places)), places),
        );
      }),
    );
  });

  it('lands within half a unit, a half going up', () => {
    fc.assert(
      fc.property(amount, amount, decimals, (a, b, places) => {
        const exact = times(rational(a.units, a.places), rational(b.units, b.places));
        const { units } = roundHalfUp(
          multiplyDecimals(parseDecimal(a.text), parseDecimal(b.text)),
          places,
        );
        // q − ½ ≤ x·10^k < q + ½, in integers.
        const scaled = 2n * exact.numerator * ten(places);
        expect((2n * units - 1n) * exact.denominator <= scaled).toBe(true);
        expect(scaled < (2n * units + 1n) * exact.denominator).toBe(true);
      }),
    );
  });

  it('rounds an exact half up and just below it down', () => {
    const tie = fc
      .record({ kept: decimals, extra: fc.integer({ min: 1, max: 6 }) })
      .filter(({ kept, extra }) => kept + extra <= 6)
      .chain(({ kept, extra }) =>
        fc.bigInt({ min: 0n, max: ten(12 + kept) - 2n }).map((rounded) => ({
          kept,
          rounded,
          half: referenceString(rounded * ten(extra) + 5n * ten(extra - 1), kept + extra),
          belowHalf: referenceString(rounded * ten(extra) + 5n * ten(extra - 1) - 1n, kept + extra),
        })),
      );
    fc.assert(
      fc.property(tie, ({ kept, rounded, half, belowHalf }) => {
        expect(formatDecimal(parseDecimal(half), kept)).toBe(referenceString(rounded + 1n, kept));
        expect(formatDecimal(parseDecimal(belowHalf), kept)).toBe(referenceString(rounded, kept));
      }),
    );
  });

  // Binary floats get these wrong: (1.005).toFixed(2) is "1.00", (2.675).toFixed(2) is "2.67".
  it.each([
    ['1.005', 2, '1.01'],
    ['2.675', 2, '2.68'],
    ['1.015', 2, '1.02'],
    ['1.004999', 2, '1.00'],
    ['0.5', 0, '1'],
    ['1.49', 0, '1'],
    ['1.5', 0, '2'],
    ['2.5', 0, '3'],
    ['0', 0, '0'],
    ['13', 0, '13'],
    ['0', 6, '0.000000'],
    ['12.5', 2, '12.50'],
    ['0.123456', 6, '0.123456'],
    ['0.000005', 5, '0.00001'],
    ['0.000004', 5, '0.00000'],
    ['999999999999.999999', 6, '999999999999.999999'],
    ['999999999999.999999', 0, '1000000000000'],
    ['999999999999.5', 0, '1000000000000'],
  ] as const)('%s to %i decimals is %s', (text, places, expected) => {
    expect(formatDecimal(parseDecimal(text), places)).toBe(expected);
  });

  it.each([-1, 7, 1.5, Number.NaN])('refuses to round to %d decimals', (places) => {
    expect(() => roundHalfUp(parseDecimal('1.5'), places)).toThrow(RangeError);
    expect(() => formatDecimal(parseDecimal('1.5'), places)).toThrow(RangeError);
  });
});
