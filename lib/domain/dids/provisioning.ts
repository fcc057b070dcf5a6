import type { CustomerRecord } from '../../data/customer.js';
import { type DidBatchTerms, readDidBatch, termsOf } from '../../data/did-batch.js';
import { queryAvailableDids } from '../../data/did-number.js';
import type { Page } from '../../data/pagination.js';
import { AppError } from '../../errors.js';
import type { DidOffer, DidOffersQuery } from '../../schemas/customer-dids.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer } from '../access.js';
import { type NumberCosts, priceOf } from './pricing.js';

export const provisioningDisabled = (customerId: string) =>
  new AppError(
    'did_provisioning_disabled',
    `Auto-provisioning of DIDs is disabled for customer ${customerId}: enable it on the panel with a batch first.`,
  );

/**
 * The batch a customer takes numbers from, while auto-provisioning is enabled (else
 * 409). It is the copy on the customer, so it costs no read; a customer whose panel
 * chose its batch before copies were kept reads it once.
 */
export async function provisioningTermsOf(
  ctx: ServiceContext,
  customer: CustomerRecord,
): Promise<DidBatchTerms> {
  const { enabled, batchId } = customer.additionalInfo.didAutoProvisioning;
  if (!enabled || !batchId) throw provisioningDisabled(customer.id);
  if (customer.didBatch?.id === batchId) return customer.didBatch;
  const batch = await readDidBatch(ctx.db, batchId);
  // Batches are never deleted: a panel pointing to a missing one is a broken table.
  if (!batch)
    throw new Error(`Customer ${customer.id} points to a DID batch ${batchId} that does not exist`);
  return termsOf(batch);
}

/** A number's place and its prices for the customer. */
export const offerOf = (
  number: NumberCosts & Pick<DidOffer, 'number' | 'kind' | 'country' | 'area'>,
  terms: DidBatchTerms,
  customer: CustomerRecord,
): DidOffer => ({
  number: number.number,
  kind: number.kind,
  country: number.country,
  area: number.area,
  ...priceOf(number, terms.pricing, customer.currency),
});

/**
 * The numbers a customer may take (§8): the customer (its batch is on it), then one
 * Query of the batch's available numbers at the place asked for, or the provider's
 * search for a provider batch. Provider searches answer one page (`nextCursor` null):
 * the provider decides which numbers it shows.
 */
export async function listDidOffers(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  query: DidOffersQuery,
): Promise<Page<DidOffer>> {
  const customer = await readVisibleCustomer(ctx, caller, customerId);
  const terms = await provisioningTermsOf(ctx, customer);
  const filter = { kind: query.kind, country: query.country, area: query.area };
  if (terms.source === 'provider') {
    const found = await ctx
      .didProviders(terms.provider ?? 'didww')
      .search({ ...filter, limit: query.limit });
    return { items: found.map((number) => offerOf(number, terms, customer)), nextCursor: null };
  }
  const page = await queryAvailableDids(ctx.db, terms.id, filter, query);
  return {
    items: page.items.map((number) => offerOf(number, terms, customer)),
    nextCursor: page.nextCursor,
  };
}
