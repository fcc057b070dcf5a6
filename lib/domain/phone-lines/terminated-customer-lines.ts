import { boundedAll } from '../../concurrency.js';
import type { CustomerRecord } from '../../data/customer.js';
import { and, exists, ne } from '../../data/expressions.js';
import {
  accountAliasesPartition,
  customerAccountsPartition,
  phoneLineKey,
} from '../../data/keys.js';
import { readLineCount } from '../../data/line-counter.js';
import { type PhoneLine, phoneLines, readLinesOf } from '../../data/phone-line.js';
import { writeItem } from '../../data/table.js';
import { nextVersion } from '../../data/versioning.js';
import type { ServiceContext } from '../../service-context.js';

/**
 * Line updates in flight at once. With about 10 ms a write, a 300-second invocation
 * marks a few hundred thousand lines; a customer with more would need this effect
 * chunked like the cascade (README, Limits).
 */
const lineUpdatesInFlight = 16;

/**
 * Marks one line terminated, bumping its version (its answers change). A line marked
 * already (the stream delivered the record again) is left as it is, and counts.
 */
async function markTerminated(ctx: ServiceContext, line: PhoneLine): Promise<boolean> {
  const outcome = await writeItem(
    ctx.db,
    phoneLines.update(
      phoneLineKey(line.number),
      { set: { customerStatus: 'terminated', ...nextVersion } },
      { condition: and(exists('pk'), ne('customerStatus', 'terminated')) },
    ),
  );
  return outcome.written || outcome.current !== undefined;
}

/**
 * A termination effect (lib/domain/termination/effects.ts): marks every account and
 * alias of the customer terminated on its registry item, which is what the switch
 * reads. It then checks it marked as many lines as the customer was ever given: the
 * index it walks is eventually consistent, and a line registered just before the
 * termination may not show yet; failing the record makes the stream retry it.
 */
export async function denyLinesOfTerminatedCustomer(
  ctx: ServiceContext,
  customer: CustomerRecord,
): Promise<void> {
  // Most terminated customers (a cascade's branches, say) have no lines: one read says so.
  const expected = await readLineCount(ctx.db, customer.id);
  if (expected === 0) return;
  let marked = 0;
  const markAll = async (partition: string, onEach?: (line: PhoneLine) => Promise<void>) => {
    let cursor: string | undefined;
    do {
      const page = await readLinesOf(ctx.db, partition, { limit: 100, cursor });
      await boundedAll(page.items, lineUpdatesInFlight, async (line) => {
        if (await markTerminated(ctx, line)) marked += 1;
        await onEach?.(line);
      });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  };
  await markAll(customerAccountsPartition(customer.id), (account) =>
    markAll(accountAliasesPartition(account.number)),
  );
  if (marked < expected) {
    throw new Error(
      `Customer ${customer.id}: marked ${marked} of ${expected} lines; the index is catching up`,
    );
  }
}
