import { notExists } from '../../data/expressions.js';
import { countLine } from '../../data/line-counter.js';
import { type PhoneLine, phoneLines } from '../../data/phone-line.js';
import { transact, type WriteRequest } from '../../data/table.js';
import { AppError } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';

export const numberTaken = (number: string) =>
  new AppError('number_taken', `${number} is already an account or an alias.`);

/**
 * Registers a line in one transaction: the guards of what it belongs to first (their
 * refusals win: 404, then 409 customer_terminated), then the line's put, which only
 * succeeds while no line has the number (lib/data/phone-line.ts: an account or an
 * alias, never both, across all customers; else 409 number_taken), and the customer's
 * line counter, which the termination effect checks its walk against.
 */
export async function registerLine(
  ctx: ServiceContext,
  line: PhoneLine,
  guards: readonly WriteRequest[],
): Promise<void> {
  await transact(ctx.db, [
    ...guards,
    phoneLines.put(line, {
      condition: notExists('pk'),
      onConditionFailed: () => numberTaken(line.number),
    }),
    countLine(line.customerId),
  ]);
}
