import {
  type CustomerRecord,
  customers,
  etagOfRecord,
  parseCustomerRecord,
} from '../../data/customer.js';
import { and, type Condition, ne, or } from '../../data/expressions.js';
import { customerKey } from '../../data/keys.js';
import { writeItem } from '../../data/table.js';
import { type IfMatch, ifMatchCondition, matchesIfMatch } from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { preconditionFailed } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { activeInScope, type Caller, refusalOf } from '../access.js';

/**
 * The conditions every write to a customer by a caller carries: it exists, is in the
 * caller's scope, is active, and matches If-Match.
 */
export const customerWriteGuards = (caller: Caller, ifMatch: IfMatch): Condition =>
  and(activeInScope(caller), ifMatchCondition(ifMatch));

/** The first guard a customer write breaks, in the contract's check order (§1) (404, 409, 412), or undefined. */
export function guardRefusal(
  caller: Caller,
  id: string,
  current: CustomerRecord | undefined,
  ifMatch: IfMatch,
): Error | undefined {
  const refusal = refusalOf(caller, id, current);
  if (refusal) return refusal;
  if (current && !matchesIfMatch(ifMatch, etagOfRecord(current))) return preconditionFailed();
  return undefined;
}

/**
 * An UpdateItem of a customer's own attributes (dotted paths for nested ones),
 * guarded by existence, the caller's scope, status and If-Match, bumping the version:
 * one round trip. It writes only when some value really changes: a request that
 * changes nothing leaves the version (and so every client's ETag) alone. On a failed
 * condition the item as it was says which guard failed, or that nothing needed to change.
 */
export async function updateOwnAttributes(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  changes: Readonly<Record<string, unknown>>,
  ifMatch: IfMatch,
): Promise<CustomerRecord> {
  const changed = or(...Object.entries(changes).map(([path, value]) => ne(path, value)));
  const request = customers.update(
    customerKey(id),
    {
      set: { ...changes, updatedAt: ctx.now().toISOString() },
      add: { version: 1 },
    },
    { condition: and(customerWriteGuards(caller, ifMatch), changed) },
  );
  return retryOnWriteConflict(async () => {
    const outcome = await writeItem(ctx.db, request, { returnNew: true });
    if (outcome.written) return parseCustomerRecord(outcome.item ?? {});
    const old = outcome.current ? parseCustomerRecord(outcome.current) : undefined;
    const refusal = guardRefusal(caller, id, old, ifMatch);
    if (refusal) throw refusal;
    // Every guard held, so the change condition failed: the values are already these.
    return old as CustomerRecord;
  });
}
