import { customers, parseCustomerRecord, terminationUpdate } from '../../data/customer.js';
import { customerKey } from '../../data/keys.js';
import { WriteConflict, writeItem } from '../../data/table.js';
import type { IfMatch } from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import type { Caller } from '../access.js';
import { customerWriteGuards, guardRefusal } from '../customers/customer-writes.js';
import { presentWritten, type VersionedCustomer } from '../customers/customers.js';

/**
 * POST /customers/{id}/terminate: one conditional UpdateItem. A terminated customer
 * is final; terminating it again answers it unchanged. The cascade to its branches
 * runs from the table's stream, never inside this request.
 */
export async function terminateCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  ifMatch: IfMatch,
): Promise<VersionedCustomer> {
  const request = customers.update(
    customerKey(id),
    terminationUpdate({ reason: 'requested' }, ctx.now().toISOString()),
    { condition: customerWriteGuards(caller, ifMatch) },
  );
  return retryOnWriteConflict(async () => {
    const outcome = await writeItem(ctx.db, request, { returnNew: true });
    if (outcome.written) return presentWritten(ctx, parseCustomerRecord(outcome.item ?? {}));
    const current = outcome.current ? parseCustomerRecord(outcome.current) : undefined;
    // A failure no guard explains is a conflict with a concurrent write: it is sent again.
    const refusal = guardRefusal(caller, id, current, ifMatch) ?? new WriteConflict();
    // Already terminated: the second request changes nothing and says so with the same answer.
    if (current && refusal instanceof AppError && refusal.code === 'customer_terminated')
      return presentWritten(ctx, current);
    throw refusal;
  });
}
