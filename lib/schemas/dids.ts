import * as z from 'zod';
import { compareDecimals, decimalPattern, parseDecimal } from '../domain/dids/money.js';
import { currencySchema } from './common.js';

/** The bound checks parse the string, so a string that is not a decimal stops at the pattern. */
const canonicalDecimal = z.string().regex(decimalPattern, {
  message: 'must be a non-negative decimal string with at most 6 decimals, e.g. "12.50"',
  abort: true,
});

/** Below 10^12: far above any real DID price, a typo guard, and at most 18 significant digits. */
const moneyLimit = parseDecimal('1000000000000');
export const moneySchema = canonicalDecimal
  .refine((text) => compareDecimals(parseDecimal(text), moneyLimit) < 0, 'must be below 10^12')
  .meta({
    id: 'Money',
    description:
      'Exact amount as a decimal string, never a JSON number: non-negative, at most 6 decimals, below 10^12',
    example: '12.50',
  });

/** At most 1000 %: a markup of more than ten times the cost is a mistake, not a price. */
const markupLimit = parseDecimal('1000');
export const markupPercentSchema = canonicalDecimal
  .refine((text) => compareDecimals(parseDecimal(text), markupLimit) <= 0, 'must be at most 1000')
  .meta({
    id: 'MarkupPercent',
    description:
      'Markup on the recurring cost in percent, as a decimal string: 0 to 1000, at most 6 decimals',
    example: '12.5',
  });

export const freePricingSchema = z.strictObject({ free: z.literal(true) });
export const paidPricingSchema = z.strictObject({
  free: z.literal(false),
  currency: currencySchema,
  activationFee: moneySchema,
  recurringFee: moneySchema,
  markupPercent: markupPercentSchema,
  roundingDecimals: z
    .number()
    .int()
    .min(0)
    .max(6)
    .meta({ description: 'Decimals the prices are rounded to, half-up' }),
});
export const pricingSchema = z
  .discriminatedUnion('free', [freePricingSchema, paidPricingSchema])
  .meta({
    id: 'DidBatchPricing',
    description:
      'Free, or paid: activationPrice = activationCost + activationFee; recurringPrice = recurringCost + recurringFee + recurringCost × markupPercent / 100; each rounded half-up to roundingDecimals',
  });
export type Pricing = z.infer<typeof pricingSchema>;
