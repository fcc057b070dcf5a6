/**
 * What both kinds of assignment (inventory and provider) share: the customer's check,
 * what it holds once a number is assigned, its activation charge, and the 409 that
 * lists every number lost to another customer.
 */
import { charges } from '../../data/charge.js';
import { type CustomerRecord, customers } from '../../data/customer.js';
import { type CustomerDid, customerDids } from '../../data/customer-did.js';
import type { DidBatchTerms } from '../../data/did-batch.js';
import { type DidNumber, didNumberFrom } from '../../data/did-number.js';
import { and, eq } from '../../data/expressions.js';
import type { IdempotentRequest, StoredResponse } from '../../data/idempotency-record.js';
import { customerKey, didNumberKey } from '../../data/keys.js';
import {
  batchGetItems,
  type Item,
  transact,
  WriteConflict,
  type WriteRequest,
} from '../../data/table.js';
import { AppError } from '../../errors.js';
import type { AssignedDids, CustomerDidView } from '../../schemas/customer-dids.js';
import type { ServiceContext } from '../../service-context.js';
import { activeInScope, type Caller, refusalOf } from '../access.js';
import { isZeroDecimal } from './money.js';
import type { NumberPrices } from './pricing.js';
import { provisioningDisabled } from './provisioning.js';

export const didUnavailable = (numbers: readonly string[]) =>
  new AppError(
    'did_unavailable',
    `Not available to this customer any more: ${numbers.join(', ')}. Nothing was assigned.`,
    numbers.map((number) => ({ path: number, message: 'is not available' })),
  );

/** A number's condition failed: it was taken (or released) between the read and the write. */
export class NumberTaken extends Error {
  constructor(readonly number: string) {
    super(`DID ${number} changed while it was being assigned`);
    this.name = 'NumberTaken';
  }
}

/** An assignment carrying an Idempotency-Key: its identity, and what its answer is stored as. */
export interface KeyedAssignment {
  readonly request: IdempotentRequest;
  readonly storedAs: (result: AssignedDids) => StoredResponse;
}

/** What the assignment read in its one round trip. */
export interface AssignmentRead {
  readonly customer: CustomerRecord;
  readonly terms: DidBatchTerms;
  readonly items: ReadonlyMap<string, Item>;
}

/**
 * The customer, as the write needs it: in scope, active, auto-provisioning enabled.
 * With `batchId`, still with that batch (else the write is planned again).
 */
export function provisioningCheck(
  caller: Caller,
  customer: CustomerRecord,
  batchId?: string,
): WriteRequest {
  return customers.check(
    customerKey(customer.id),
    and(
      activeInScope(caller),
      eq('additionalInfo.didAutoProvisioning.enabled', true),
      batchId === undefined ? undefined : eq('additionalInfo.didAutoProvisioning.batchId', batchId),
    ),
    (current) =>
      refusalOf(caller, customer.id, current) ??
      (current?.additionalInfo.didAutoProvisioning.enabled
        ? new WriteConflict()
        : provisioningDisabled(customer.id)),
  );
}

/** What the customer holds once a number is assigned, and what the answer lists. */
export function customerDidOf(
  customerId: string,
  did: Pick<DidNumber, 'number' | 'batchId' | 'source' | 'kind' | 'country' | 'area'>,
  prices: NumberPrices,
  assignedAt: string,
): CustomerDid {
  return {
    customerId,
    number: did.number,
    batchId: did.batchId,
    source: did.source,
    kind: did.kind,
    country: did.country,
    area: did.area,
    ...prices,
    assignedAt,
  };
}

export const viewOf = ({ customerId: _c, source: _s, ...view }: CustomerDid): CustomerDidView =>
  view;

/** The customer's copy of a number and, when its activation price is not zero, its activation charge. */
export function holdingWrites(ctx: ServiceContext, held: CustomerDid): WriteRequest[] {
  return [
    customerDids.put(held),
    ...(isZeroDecimal(held.activationPrice)
      ? []
      : [
          charges.put({
            id: ctx.newId(),
            customerId: held.customerId,
            amount: held.activationPrice,
            currency: held.currency,
            kind: 'did_activation',
            description: `Activation of DID ${held.number}`,
            occurredAt: held.assignedAt,
            period: null,
          }),
        ]),
  ];
}

/** The numbers of the list that are not available to the customer now, by a fresh read. */
export async function unavailableNow(
  ctx: ServiceContext,
  numbers: readonly string[],
  isAvailable: (did: DidNumber | undefined) => boolean,
): Promise<string[]> {
  const items = await batchGetItems(ctx.db, numbers.map(didNumberKey));
  return numbers.filter((number) => !isAvailable(didNumberFrom(items, number)));
}

/** Runs the assignment's transaction; a number lost to another customer answers 409 listing every such number. */
export async function transactAssignment(
  ctx: ServiceContext,
  numbers: readonly string[],
  writes: readonly WriteRequest[],
  isAvailable: (did: DidNumber | undefined) => boolean,
): Promise<void> {
  try {
    await transact(ctx.db, writes);
  } catch (error) {
    if (!(error instanceof NumberTaken)) throw error;
    const lost = await unavailableNow(ctx, numbers, isAvailable);
    throw didUnavailable(lost.length > 0 ? lost : [error.number]);
  }
}
