import { boundedAll } from '../../concurrency.js';
import { customers } from '../../data/customer.js';
import { type CustomerDid, customerDids, queryCustomerDids } from '../../data/customer-did.js';
import { type DidNumber, didNumbers, readDidNumber } from '../../data/did-number.js';
import { and, copyOf, eq, exists } from '../../data/expressions.js';
import { customerDidKey, customerKey, didNumberKey } from '../../data/keys.js';
import type { Page } from '../../data/pagination.js';
import { transact, type WriteRequest, writeItem } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { notFound } from '../../errors.js';
import type { CustomerDidView } from '../../schemas/customer-dids.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer, scopeCondition } from '../access.js';
import { viewOf } from './holdings.js';

/** A customer's DIDs with the prices they were assigned at: the customer (scope), then one Query of its partition. */
export async function listCustomerDids(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<CustomerDidView>> {
  await readVisibleCustomer(ctx, caller, customerId);
  const found = await queryCustomerDids(ctx.db, customerId, page);
  return { items: found.items.map(viewOf), nextCursor: found.nextCursor };
}

/** The number's item was not the customer's provider/inventory number the write expected. */
class OtherSource extends Error {}

/**
 * An inventory number back in its batch's offers: the index keys are copied from the
 * item's own batch and place, so the write needs no read of them.
 */
const returnToInventory = (customerId: string, number: string, now: string): WriteRequest =>
  didNumbers.update(
    didNumberKey(number),
    {
      set: {
        status: 'available',
        customerId: null,
        assignedAt: null,
        releasedAt: now,
        availableIn: copyOf('batchId'),
        availablePlace: copyOf('placeSort'),
      },
    },
    {
      condition: and(
        eq('status', 'assigned'),
        eq('customerId', customerId),
        eq('source', 'inventory'),
      ),
      onConditionFailed: () => new OtherSource(),
    },
  );

/** A provider number handed to the DID release consumer, which releases it at the provider. */
const startProviderRelease = (customerId: string, number: string, now: string): WriteRequest =>
  didNumbers.update(
    didNumberKey(number),
    { set: { status: 'releasing', customerId: null, releasedAt: now } },
    {
      condition: and(
        eq('status', 'assigned'),
        eq('customerId', customerId),
        eq('source', 'provider'),
      ),
    },
  );

/**
 * The customer's copy of the number, deleted on condition that it exists (the number
 * is the customer's), beside the change of the number's own item.
 */
const dropHolding = (customerId: string, number: string): WriteRequest =>
  customerDids.delete(customerDidKey(customerId, number), {
    condition: exists('pk'),
    onConditionFailed: () => notFound(`Customer ${customerId} holds no DID ${number}.`),
  });

/**
 * Gives up one of a customer's DIDs (§8), in one transaction: the customer in the
 * caller's scope, the customer's copy, and the number back in its inventory as
 * available with `releasedAt`. A provider number is only known to be one when that
 * write's condition fails: a second transaction then hands it to the provider release.
 * A number the customer does not hold, or a stranger's, is 404.
 */
export async function releaseDid(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  number: string,
): Promise<void> {
  const now = ctx.now().toISOString();
  // Two releases of one number at once conflict; the one that runs again finds it gone (404).
  return retryOnWriteConflict(async () => {
    const guards = [
      customers.check(customerKey(customerId), and(exists('pk'), scopeCondition(caller)), () =>
        notFound(),
      ),
      dropHolding(customerId, number),
    ];
    try {
      await transact(ctx.db, [...guards, returnToInventory(customerId, number, now)]);
    } catch (error) {
      if (!(error instanceof OtherSource)) throw error;
      await transact(ctx.db, [...guards, startProviderRelease(customerId, number, now)]);
    }
  });
}

/** One DID of a terminated customer released, as `releaseDid` does, its source known from its copy. */
async function releaseHolding(ctx: ServiceContext, holding: CustomerDid): Promise<void> {
  const now = ctx.now().toISOString();
  const release = holding.source === 'inventory' ? returnToInventory : startProviderRelease;
  try {
    await transact(ctx.db, [
      dropHolding(holding.customerId, holding.number),
      release(holding.customerId, holding.number, now),
    ]);
  } catch (error) {
    // Released meanwhile (by its customer, or by this record delivered before): done.
    if ((error as { code?: string }).code !== 'not_found') throw error;
  }
}

const releasesInFlight = 8;

/**
 * §8: a terminated customer's numbers go back (inventory) or are released (provider),
 * for a branch terminated by its main office too. Its copies are found by strongly
 * consistent Queries of its partition, and no number can be assigned to it once it is
 * terminated (every assignment checks the customer in its transaction), so each page
 * read after the termination holds every number it will ever have.
 */
export async function releaseDidsOfTerminated(
  ctx: ServiceContext,
  customerId: string,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await queryCustomerDids(ctx.db, customerId, { limit: 100, cursor });
    await boundedAll(page.items, releasesInFlight, (holding) => releaseHolding(ctx, holding));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/**
 * Releases a given-up provider number at its provider, then forgets it (the number is
 * no longer ours). Reads the item first: a record delivered twice finds it gone.
 */
export async function finishProviderRelease(ctx: ServiceContext, number: string): Promise<void> {
  const did: DidNumber | undefined = await readDidNumber(ctx.db, number);
  if (did?.status !== 'releasing' || !did.provider) return;
  if (did.providerDidId) await ctx.didProviders(did.provider).release(did.providerDidId);
  await writeItem(
    ctx.db,
    didNumbers.delete(didNumberKey(number), {
      condition: and(eq('status', 'releasing'), eq('orderId', did.orderId)),
    }),
  );
}
