import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { priceOf } from '../../../../../lib/domain/dids/pricing.js';
import {
  markupPercentSchema,
  moneySchema,
  pricingSchema,
} from '../../../../../lib/schemas/dids.js';

import {
  plus,
  type Rational,
  referenceRound,
  referenceString,
  ten,
  times,
} from '../../../../fixtures/reference-rational.js';

type Generated = { value: Rational; text: string };
/** A decimal string with 0 to 6 decimals whose value is below `limit` (or at most it). */
const decimalBelow = (limit: bigint, inclusive: boolean) =>
  fc.integer({ min: 0, max: 6 }).chain((places) =>
    fc.bigInt({ min: 0n, max: limit * ten(places) - (inclusive ? 0n : 1n) }).map(
      (units): Generated => ({
        value: { numerator: units, denominator: ten(places) },
        text: referenceString(units, places),
      }),
    ),
  );
const money = decimalBelow(ten(12), false);
const percent = decimalBelow(1000n, true);
const roundingDecimals = fc.integer({ min: 0, max: 6 });

const paid = (fields: {
  activationFee?: string;
  recurringFee?: string;
  markupPercent?: string;
  roundingDecimals?: number;
}) => ({
  free: false as const,
  currency: 'EUR',
  activationFee: '0',
  recurringFee: '0',
  markupPercent: '0',
  roundingDecimals: 2,
  ...fields,
});

describe('priceOf', () => {
  it('matches the exact reference for random costs, fees, markups and rounding', () => {
    fc.assert(
      fc.property(
        money,
        money,
        money,
        money,
        percent,
        roundingDecimals,
        (activationCost, recurringCost, activationFee, recurringFee, markup, places) => {
          const pricing = paid({
            activationFee: activationFee.text,
            recurringFee: recurringFee.text,
            markupPercent: markup.text,
            roundingDecimals: places,
          });
          const hundredth: Rational = { numerator: 1n, denominator: 100n };
          const recurring = plus(
            plus(recurringCost.value, recurringFee.value),
            times(times(recurringCost.value, markup.value), hundredth),
          );
          expect(
            priceOf(
              { activationCost: activationCost.text, recurringCost: recurringCost.text },
              pricing,
              'USD',
            ),
          ).toEqual({
            activationPrice: referenceRound(
              plus(activationCost.value, activationFee.value),
              places,
            ),
            recurringPrice: referenceRound(recurring, places),
            currency: 'EUR',
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepts every generated pricing as valid', () => {
    fc.assert(
      fc.property(money, money, percent, roundingDecimals, (fee, recurring, markup, places) => {
        const pricing = paid({
          activationFee: fee.text,
          recurringFee: recurring.text,
          markupPercent: markup.text,
          roundingDecimals: places,
        });
        expect(pricingSchema.parse(pricing)).toEqual(pricing);
      }),
    );
  });

  it.each([
    // activation cost and fee, recurring cost and fee, markup, decimals; then the two prices
    ['1', '0.005', '2.675', '0', '0', 2, '1.01', '2.68'],
    ['1.004', '0.001', '1.004999', '0', '0', 2, '1.01', '1.00'],
    ['0.4', '0.1', '1.49', '0', '0', 0, '1', '1'],
    ['0.49', '0', '1', '0.4', '10', 0, '0', '2'],
    ['12', '0.5', '10', '0', '12.5', 2, '12.50', '11.25'],
    ['12', '0.5', '10', '0', '12.5', 1, '12.5', '11.3'],
    ['12', '0.5', '10', '0', '12.5', 0, '13', '11'],
    ['0', '0', '0.1', '0', '5', 2, '0.00', '0.11'],
    ['0', '0', '3.33', '0.01', '33.333333', 2, '0.00', '4.45'],
    ['0.000001', '0', '0.000001', '0', '50', 6, '0.000001', '0.000002'],
    ['0.000001', '0', '0.000001', '0', '49.999999', 6, '0.000001', '0.000001'],
    ['5', '0', '5', '0', '0', 6, '5.000000', '5.000000'],
    [
      '999999999999.999999',
      '999999999999.999999',
      '999999999999.999999',
      '999999999999.999999',
      '1000',
      6,
      '1999999999999.999998',
      '11999999999999.999988',
    ],
    [
      '999999999999.999999',
      '0.000001',
      '999999999999.999999',
      '0',
      '1000',
      0,
      '1000000000000',
      '11000000000000',
    ],
  ] as const)('activation %s + %s, recurring %s + %s + %s%%, at %i decimals', (...row) => {
    const [activationCost, activationFee, recurringCost, recurringFee, markupPercent, places] = row;
    const [activationPrice, recurringPrice] = row.slice(6);
    expect(
      priceOf(
        { activationCost, recurringCost },
        paid({ activationFee, recurringFee, markupPercent, roundingDecimals: places }),
        'EUR',
      ),
    ).toEqual({ activationPrice, recurringPrice, currency: 'EUR' });
  });

  it('answers a free batch with "0" prices in the customer’s currency', () => {
    fc.assert(
      fc.property(money, money, fc.constantFrom('EUR', 'CHF', 'JPY', 'KWD'), (a, r, currency) => {
        expect(
          priceOf({ activationCost: a.text, recurringCost: r.text }, { free: true }, currency),
        ).toEqual({ activationPrice: '0', recurringPrice: '0', currency });
      }),
    );
  });

  it('prices a paid batch in its own currency, not the customer’s', () => {
    expect(
      priceOf({ activationCost: '1', recurringCost: '2' }, { ...paid({}), currency: 'GBP' }, 'EUR'),
    ).toEqual({ activationPrice: '1.00', recurringPrice: '2.00', currency: 'GBP' });
  });
});

const refusedDecimals = [
  12.5,
  12,
  0,
  null,
  true,
  '',
  ' ',
  ' 1',
  '1 ',
  '+1',
  '-1',
  '-0',
  '-0.5',
  '1e3',
  '1E3',
  '1e-2',
  '.5',
  '1.',
  '007',
  '00',
  '01.5',
  '1.1234567',
  '0.0000001',
  '1,5',
  'NaN',
  'Infinity',
  '0x1F',
];

describe('moneySchema', () => {
  it.each(refusedDecimals)('refuses %j', (value) => {
    expect(moneySchema.safeParse(value).success).toBe(false);
  });

  it.each(['1000000000000', '1000000000000.0', '99999999999999'])(
    'refuses %j (too large)',
    (value) => {
      expect(moneySchema.safeParse(value).success).toBe(false);
    },
  );

  it.each(['0', '0.00', '0.000001', '12.50', '12.5', '13', '999999999999.999999'])(
    'accepts %j',
    (value) => {
      expect(moneySchema.parse(value)).toBe(value);
    },
  );

  it('refuses a float arriving as a JSON number', () => {
    const { price } = JSON.parse('{"price": 12.50}');
    expect(moneySchema.safeParse(price).success).toBe(false);
  });
});

describe('markupPercentSchema', () => {
  it.each([...refusedDecimals, '1000.000001', '1001', '10000'])('refuses %j', (value) => {
    expect(markupPercentSchema.safeParse(value).success).toBe(false);
  });

  it.each(['0', '12.5', '0.000001', '100', '999.999999', '1000', '1000.000000'])(
    'accepts %j',
    (value) => {
      expect(markupPercentSchema.parse(value)).toBe(value);
    },
  );
});

describe('pricingSchema', () => {
  it.each([
    { free: true },
    paid({}),
    paid({
      activationFee: '1.50',
      recurringFee: '0.99',
      markupPercent: '12.5',
      roundingDecimals: 0,
    }),
    paid({ roundingDecimals: 6 }),
  ])('accepts %j', (pricing) => {
    expect(pricingSchema.parse(pricing)).toEqual(pricing);
  });

  it.each([
    ['an unknown field on a free batch', { free: true, currency: 'EUR' }],
    ['an unknown field on a paid batch', { ...paid({}), discount: '1' }],
    ['a paid batch missing a fee', { ...paid({}), activationFee: undefined }],
    ['a string for free', { ...paid({}), free: 'false' }],
    ['no free at all', { currency: 'EUR' }],
    ['an unknown currency', { ...paid({}), currency: 'ABC' }],
    ['a lowercase currency', { ...paid({}), currency: 'eur' }],
    ['a fee as a JSON number', { ...paid({}), activationFee: 1.5 }],
    ['a negative fee', paid({ recurringFee: '-1' })],
    ['a fee with an exponent', paid({ recurringFee: '1e2' })],
    ['a markup with 7 decimals', paid({ markupPercent: '1.0000001' })],
    ['a markup as a JSON number', { ...paid({}), markupPercent: 12.5 }],
    ['7 rounding decimals', paid({ roundingDecimals: 7 })],
    ['negative rounding decimals', paid({ roundingDecimals: -1 })],
    ['fractional rounding decimals', paid({ roundingDecimals: 2.5 })],
    ['rounding decimals as a string', { ...paid({}), roundingDecimals: '2' }],
  ])('refuses %s', (_, pricing) => {
    expect(pricingSchema.safeParse(pricing).success).toBe(false);
  });
});
