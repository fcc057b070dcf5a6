import type { Pricing } from '../../schemas/dids.js';
import {
  addDecimals,
  divideBy100,
  formatDecimal,
  multiplyDecimals,
  parseDecimal,
} from './money.js';

/** What the inventory or the provider charges us for a number (decimal strings). */
export type NumberCosts = { activationCost: string; recurringCost: string };

export type NumberPrices = { activationPrice: string; recurringPrice: string; currency: string };

/**
 * A number's prices under its batch's pricing (§8). Each price is computed exactly and rounded
 * once, at the end. A free batch charges nothing, shown as "0" in the customer's currency.
 */
export const priceOf = (
  number: NumberCosts,
  pricing: Pricing,
  customerCurrency: string,
): NumberPrices => {
  if (pricing.free)
    return { activationPrice: '0', recurringPrice: '0', currency: customerCurrency };
  const recurringCost = parseDecimal(number.recurringCost);
  const markup = divideBy100(multiplyDecimals(recurringCost, parseDecimal(pricing.markupPercent)));
  const activation = addDecimals(
    parseDecimal(number.activationCost),
    parseDecimal(pricing.activationFee),
  );
  const recurring = addDecimals(
    addDecimals(recurringCost, parseDecimal(pricing.recurringFee)),
    markup,
  );
  return {
    activationPrice: formatDecimal(activation, pricing.roundingDecimals),
    recurringPrice: formatDecimal(recurring, pricing.roundingDecimals),
    currency: pricing.currency,
  };
};
