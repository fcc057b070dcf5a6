import { customers } from '../../data/customer.js';
import {
  availabilityAttributes,
  type DidNumber,
  didNumberFrom,
  didNumbers,
} from '../../data/did-number.js';
import { and, eq } from '../../data/expressions.js';
import {
  IdempotentReplay,
  type IdempotentRequest,
  idempotencyRecordKey,
  idempotencyRecordRefusal,
  recordAnswer,
  type StoredResponse,
} from '../../data/idempotency-record.js';
import { customerKey, didNumberKey } from '../../data/keys.js';
import { batchGetItems, itemId } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { customerTerminated } from '../../errors.js';
import type { AssignedDids } from '../../schemas/customer-dids.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, visibleOrNotFound } from '../access.js';
import {
  type AssignmentRead,
  customerDidOf,
  didUnavailable,
  holdingWrites,
  type KeyedAssignment,
  NumberTaken,
  provisioningCheck,
  transactAssignment,
  viewOf,
} from './holdings.js';
import { priceOf } from './pricing.js';
import { orderFromProvider } from './provider-orders.js';
import { provisioningTermsOf } from './provisioning.js';

export type AssignmentOutcome =
  | { readonly result: AssignedDids }
  | { readonly replay: StoredResponse };

/** Concurrent grabs of the same numbers conflict; each attempt reads again and then sees them taken. */
const maxAttempts = 10;

/**
 * Assigns numbers to a customer (§8), all or nothing. Round trip 1 reads the customer
 * (its batch is copied on it), every number's item and the key's record together, in
 * one BatchGetItem; round trip 2 is one transaction: the key's answer, the customer
 * still active with this batch, each number taken on condition that it is still
 * available in the batch, the customer's copy of each, and each non-zero activation
 * charge. A provider batch orders at the provider between them (provider-orders.ts).
 */
export async function assignDids(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  numbers: readonly string[],
  keyed?: KeyedAssignment,
): Promise<AssignmentOutcome> {
  try {
    const result = await retryOnWriteConflict(async () => {
      const read = await readAssignment(ctx, caller, customerId, numbers, keyed?.request);
      return read.terms.source === 'inventory'
        ? assignFromInventory(ctx, caller, read, numbers, keyed)
        : orderFromProvider(ctx, caller, read, numbers, keyed);
    }, maxAttempts);
    return { result };
  } catch (error) {
    if (error instanceof IdempotentReplay) return { replay: error.response };
    throw error;
  }
}

/** Round trip 1, and the checks on what it read, in §1's order: the key, 404, then the rules. */
async function readAssignment(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  numbers: readonly string[],
  request: IdempotentRequest | undefined,
): Promise<AssignmentRead> {
  const items = await batchGetItems(ctx.db, [
    customerKey(customerId),
    ...(request ? [idempotencyRecordKey(request)] : []),
    ...numbers.map(didNumberKey),
  ]);
  if (request) {
    const refusal = idempotencyRecordRefusal(
      items.get(itemId(idempotencyRecordKey(request))),
      request,
      ctx.now(),
    );
    if (refusal) throw refusal;
  }
  const customer = visibleOrNotFound(caller, customers.from(items, customerKey(customerId)));
  if (customer.status !== 'active') throw customerTerminated(customerId);
  return { customer, terms: await provisioningTermsOf(ctx, customer), items };
}

function assignFromInventory(
  ctx: ServiceContext,
  caller: Caller,
  read: AssignmentRead,
  numbers: readonly string[],
  keyed: KeyedAssignment | undefined,
): Promise<AssignedDids> {
  const { customer, terms } = read;
  const isAvailable = (did: DidNumber | undefined) =>
    did?.status === 'available' && did.batchId === terms.id;
  const dids = numbers.map((number) => didNumberFrom(read.items, number));
  const unavailable = numbers.filter((_, index) => !isAvailable(dids[index]));
  if (unavailable.length > 0) throw didUnavailable(unavailable);
  const assignedAt = ctx.now().toISOString();
  const held = (dids as DidNumber[]).map((did) =>
    customerDidOf(customer.id, did, priceOf(did, terms.pricing, customer.currency), assignedAt),
  );
  const result: AssignedDids = { assigned: held.map(viewOf) };
  const writes = [
    ...(keyed ? [recordAnswer(keyed.request, keyed.storedAs(result), ctx.now())] : []),
    provisioningCheck(caller, customer, terms.id),
    ...held.flatMap((holding) => [
      didNumbers.update(
        didNumberKey(holding.number),
        {
          set: { status: 'assigned', customerId: customer.id, assignedAt },
          remove: [availabilityAttributes.batch, availabilityAttributes.place],
        },
        {
          condition: and(eq('status', 'available'), eq('batchId', terms.id)),
          onConditionFailed: () => new NumberTaken(holding.number),
        },
      ),
      ...holdingWrites(ctx, holding),
    ]),
  ];
  return transactAssignment(ctx, numbers, writes, isAvailable).then(() => result);
}
