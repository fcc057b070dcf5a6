import * as z from 'zod';
import type { Db } from './client.js';
import { defineEntity, withCustomerIdFromKey } from './entity.js';
import { customerLineCountKey, entityTypes } from './keys.js';
import type { WriteRequest } from './table.js';

/**
 * How many phone lines a customer has ever been given (`customerLineCountKey`),
 * counted in the transaction that registers each line. The termination effect compares
 * it with the lines it found on the eventually consistent `linesByOwner` index, to know
 * it saw them all. Only ever written by updates, so the customer's id is read from the
 * key (items of before the entity existed have no `entityType` either).
 */
const lineCounterFields = z.object({
  customerId: z.string(),
  lineCount: z.number().int().min(0).default(0),
});
const lineCounterSchema = withCustomerIdFromKey(lineCounterFields);

const lineCounters = defineEntity({
  type: entityTypes.lineCounter,
  schema: lineCounterSchema,
  keyOf: (counter) => customerLineCountKey(counter.customerId),
});

/** Counts one more line of the customer; the first creates the counter. */
export const countLine = (customerId: string): WriteRequest =>
  lineCounters.update(customerLineCountKey(customerId), { add: { lineCount: 1 } });

/** Strongly consistent read of how many lines the customer was ever given: 0 without a counter. */
export async function readLineCount(db: Db, customerId: string): Promise<number> {
  const counter = await lineCounters.get(db, customerLineCountKey(customerId));
  return counter?.lineCount ?? 0;
}
