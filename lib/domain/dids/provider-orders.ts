import type { DidBatchTerms } from '../../data/did-batch.js';
import { type DidNumber, didNumbers, readDidNumber } from '../../data/did-number.js';
import { type DidOrder, didOrders, type OrderedNumber } from '../../data/did-order.js';
import { and, eq, notExists, oneOf } from '../../data/expressions.js';
import {
  claimRequest,
  completeClaim,
  type IdempotencyClaim,
  releaseClaim,
} from '../../data/idempotency-record.js';
import { didNumberKey, didOrderKey } from '../../data/keys.js';
import { itemId, transact, type WriteRequest, writeItem } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError } from '../../errors.js';
import { logger } from '../../observability/logger.js';
import type { AssignedDids } from '../../schemas/customer-dids.js';
import type { ServiceContext } from '../../service-context.js';
import type { Caller } from '../access.js';
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
import type { DidProvider, ProviderNumber } from './provider.js';

/**
 * How long an order may stay `ordering` before its expiry repairs it: far longer than
 * an API request can live (API Gateway gives up after 30 s), so an intent that expires
 * belonged to a request that died. DynamoDB deletes expired items some time after
 * (usually within a day or two); the local runtime within seconds.
 */
export const orderRepairAfterSeconds = 5 * 60;

/** The request's hold on its Idempotency-Key lasts as long as an API request can. */
const claimLeaseMillis = 30_000;

export const providerOf = (ctx: ServiceContext, terms: DidBatchTerms): DidProvider =>
  ctx.didProviders(terms.provider ?? 'didww');

/**
 * A provider batch's assignment (§8) as a recorded intent:
 * 1. the provider's offer of each number (not offered: 409 did_unavailable);
 * 2. one transaction: the intent (`ordering`), each number held for it (on condition
 *    that no one holds it), the customer still able to take numbers, and the key's claim;
 * 3. the order at the provider;
 * 4. one transaction: each held number assigned, the customer's copies, the activation
 *    charges, the key's answer, the intent `completed`, on condition that it is still
 *    `ordering`.
 * A provider failure, or a step 4 that fails, marks the intent `compensating` and the
 * DID release consumer releases whatever was bought; a request that dies anywhere
 * leaves the intent `ordering` until it expires, and its expiry does the same.
 */
export async function orderFromProvider(
  ctx: ServiceContext,
  caller: Caller,
  read: AssignmentRead,
  numbers: readonly string[],
  keyed: KeyedAssignment | undefined,
): Promise<AssignedDids> {
  const { customer, terms } = read;
  const held = numbers.filter((number) => read.items.has(itemId(didNumberKey(number))));
  if (held.length > 0) throw didUnavailable(held);
  const provider = providerOf(ctx, terms);
  const offers = await Promise.all(numbers.map((number) => provider.find(number)));
  const notOffered = numbers.filter((_, index) => !offers[index]);
  if (notOffered.length > 0) throw didUnavailable(notOffered);

  const now = ctx.now();
  const order: DidOrder = {
    id: ctx.newId(),
    customerId: customer.id,
    batchId: terms.id,
    provider: terms.provider ?? 'didww',
    status: 'ordering',
    numbers: (offers as ProviderNumber[]).map(orderedNumberOf),
    createdAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + orderRepairAfterSeconds,
  };
  const claim = keyed ? claimRequest(keyed.request, now, claimLeaseMillis) : undefined;
  await transactAssignment(
    ctx,
    numbers,
    [
      ...(claim ? [claim.write] : []),
      provisioningCheck(caller, customer, terms.id),
      ...order.numbers.map((number) =>
        didNumbers.put(heldNumberOf(order, number, now.toISOString()), {
          condition: notExists('pk'),
          onConditionFailed: () => new NumberTaken(number.number),
        }),
      ),
      didOrders.put(order),
    ],
    (did) => did === undefined,
  );

  let bought: Map<string, string>;
  try {
    const ordered = await provider.order(offers as ProviderNumber[], order.id);
    bought = new Map(ordered.map((did) => [did.number, did.providerDidId]));
    // A number the provider did not say it delivered would be assigned with nothing to
    // release later: the order is given up instead, and its compensation releases what came.
    const missing = order.numbers.filter(({ number }) => !bought.has(number));
    if (missing.length > 0) {
      throw new AppError(
        'provider_error',
        `The provider did not deliver ${missing.map(({ number }) => number).join(', ')}.`,
      );
    }
  } catch (error) {
    await abandonOrder(ctx, order, claim?.claim);
    throw error;
  }

  const assignedAt = ctx.now().toISOString();
  const holdings = order.numbers.map((number) =>
    customerDidOf(
      customer.id,
      { ...number, batchId: terms.id, source: 'provider' },
      priceOf(number, terms.pricing, customer.currency),
      assignedAt,
    ),
  );
  const result: AssignedDids = { assigned: holdings.map(viewOf) };
  try {
    // Only a concurrent write of the customer conflicts here; the order is not placed twice.
    await retryOnWriteConflict(() =>
      transact(ctx.db, [
        ...(claim && keyed ? [completeClaim(claim.claim, keyed.storedAs(result))] : []),
        provisioningCheck(caller, customer),
        didOrders.update(
          didOrderKey(order.id),
          { set: { status: 'completed' } },
          { condition: eq('status', 'ordering') },
        ),
        ...holdings.flatMap((holding) => [
          didNumbers.update(
            didNumberKey(holding.number),
            {
              set: {
                status: 'assigned',
                customerId: customer.id,
                assignedAt,
                providerDidId: bought.get(holding.number) as string,
              },
            },
            { condition: and(eq('status', 'ordering'), eq('orderId', order.id)) },
          ),
          ...holdingWrites(ctx, holding),
        ]),
      ]),
    );
  } catch (error) {
    await abandonOrder(ctx, order, claim?.claim);
    throw error;
  }
  return result;
}

const orderedNumberOf = (offer: ProviderNumber): OrderedNumber => ({
  number: offer.number,
  kind: offer.kind,
  country: offer.country,
  area: offer.area,
  activationCost: offer.activationCost,
  recurringCost: offer.recurringCost,
  offerRef: offer.offerRef,
});

const heldNumberOf = (order: DidOrder, number: OrderedNumber, now: string): DidNumber => ({
  number: number.number,
  batchId: order.batchId,
  source: 'provider',
  provider: order.provider,
  kind: number.kind,
  country: number.country,
  area: number.area,
  activationCost: number.activationCost,
  recurringCost: number.recurringCost,
  status: 'ordering',
  customerId: null,
  assignedAt: null,
  releasedAt: null,
  addedAt: now,
  orderId: order.id,
  providerDidId: null,
});

/**
 * Hands a failed order to the DID release consumer (`compensating`) and frees the
 * key. Each write on its own: when either fails, the intent's expiry still repairs
 * the order and the claim's lease still ends.
 */
async function abandonOrder(
  ctx: ServiceContext,
  order: DidOrder,
  claim: IdempotencyClaim | undefined,
): Promise<void> {
  const writes: WriteRequest[] = [
    didOrders.update(
      didOrderKey(order.id),
      { set: { status: 'compensating' } },
      { condition: eq('status', 'ordering') },
    ),
    ...(claim ? [releaseClaim(claim)] : []),
  ];
  for (const write of writes) {
    await writeItem(ctx.db, write).catch((error: unknown) =>
      logger.error('Could not record a failed DID order; its expiry repairs it', error as Error),
    );
  }
}

/**
 * Undoes an order that did not complete (§8: no number is bought and lost): for each
 * of its numbers, the DID we may hold at the provider is released unless one of ours
 * holds it, then the order's hold is lifted; last, the intent is `compensated`. Each
 * step is safe to repeat, so a record delivered twice changes nothing.
 *
 * The provider is asked first and the table second: a number that some later order
 * holds was held before that order bought it, so a DID found at the provider whose
 * number has no item read afterwards is ours to release, never a later order's. That
 * also catches a DID the provider delivered after the order had been given up, when
 * the expiry of the `compensated` intent runs this once more.
 */
export async function compensateOrder(ctx: ServiceContext, order: DidOrder): Promise<void> {
  const provider = ctx.didProviders(order.provider);
  for (const { number } of order.numbers) {
    const owned = await provider.findOwned(number);
    const did = await readDidNumber(ctx.db, number);
    const heldForOrder = did?.status === 'ordering' && did.orderId === order.id;
    if (did && !heldForOrder) continue;
    if (owned) await provider.release(owned.providerDidId);
    if (heldForOrder) {
      await writeItem(
        ctx.db,
        didNumbers.delete(didNumberKey(number), {
          condition: and(eq('status', 'ordering'), eq('orderId', order.id)),
        }),
      );
    }
  }
  // Absent once its expiry deleted it: then there is nothing to mark.
  await writeItem(
    ctx.db,
    didOrders.update(
      didOrderKey(order.id),
      { set: { status: 'compensated' } },
      { condition: oneOf('status', ['ordering', 'compensating']) },
    ),
  );
}
