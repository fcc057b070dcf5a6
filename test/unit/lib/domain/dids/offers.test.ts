import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { listDidOffers } from '../../../../../lib/domain/dids/provisioning.js';
import type { DidOffersQuery } from '../../../../../lib/schemas/customer-dids.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { customer } from '../../../../fixtures/customer-records.js';
import {
  contextWith,
  customerKey,
  didNumber,
  didNumberItem,
  fakeDidProvider,
  inventoryTerms,
  providerOffer,
  providerTerms,
  provisionedCustomer,
} from '../../../../fixtures/did-records.js';
import { batchGets, ddb, gets, queries, store } from '../../../../fixtures/mocked-table.js';
import { admin, resellerR1 } from '../../../../fixtures/service-context.js';
import { didBatch, didBatchItem, didBatchKey } from './support.js';

const berlin: DidOffersQuery = { kind: 'local', country: 'DE', area: '30', limit: 10 };

/** The availableDids index answers these numbers. */
const indexAnswers = (...numbers: string[]) =>
  ddb
    .on(QueryCommand)
    .resolves({ Items: numbers.map((number) => didNumberItem(didNumber(number))) });

describe('listDidOffers from an inventory batch', () => {
  it('reads the customer, then queries the batch’s available numbers at the place asked for, priced by the batch', async () => {
    store(customerItem(provisionedCustomer('c1')));
    indexAnswers('+4930111111', '+4930222222');
    const { ctx } = contextWith();

    const page = await listDidOffers(ctx, resellerR1, 'c1', berlin);

    const offer = (number: string) => ({
      number,
      kind: 'local',
      country: 'DE',
      area: '30',
      // 1.50 + 1.00; 0.99 + 0.50 + 0.99 × 10 % = 1.589, rounded to 2 decimals.
      activationPrice: '2.50',
      recurringPrice: '1.59',
      currency: 'EUR',
    });
    expect(page).toEqual({
      items: [offer('+4930111111'), offer('+4930222222')],
      nextCursor: null,
    });
    expect(gets()).toEqual([customerKey('c1')]);
    expect(batchGets()).toEqual([]);
    expect(queries()).toHaveLength(1);
    const query = queries()[0];
    expect(query?.IndexName).toBe('availableDids');
    expect(query?.Limit).toBe(11);
    expect(namesIn(query)).toEqual(expect.arrayContaining(['availableIn', 'availablePlace']));
    expect(valuesIn(query)).toEqual(expect.arrayContaining(['b1', 'local#DE#30#']));
  });

  it('asks for every area of the country when no area is given', async () => {
    store(customerItem(provisionedCustomer('c1')));
    indexAnswers();
    const { ctx } = contextWith();

    await listDidOffers(ctx, admin, 'c1', { kind: 'toll_free', country: 'US', limit: 5 });

    expect(valuesIn(queries()[0])).toEqual(expect.arrayContaining(['b1', 'toll_free#US#']));
  });

  it('answers a cursor when the index has more numbers than the page', async () => {
    store(customerItem(provisionedCustomer('c1')));
    indexAnswers('+4930111111', '+4930222222', '+4930333333');
    const { ctx } = contextWith();

    const page = await listDidOffers(ctx, admin, 'c1', { ...berlin, limit: 2 });

    expect(page.items.map((offer) => offer.number)).toEqual(['+4930111111', '+4930222222']);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('shows a free batch’s prices as "0" in the customer’s currency', async () => {
    const free = { ...inventoryTerms, pricing: { free: true as const } };
    store(customerItem(provisionedCustomer('c1', free, { currency: 'USD' })));
    indexAnswers('+4930111111');
    const { ctx } = contextWith();

    const page = await listDidOffers(ctx, admin, 'c1', berlin);

    expect(page.items).toEqual([
      expect.objectContaining({ activationPrice: '0', recurringPrice: '0', currency: 'USD' }),
    ]);
  });

  it('reads the batch of a customer that holds no copy of it', async () => {
    store(
      customerItem(customer('c1', { did: { enabled: true, batchId: 'b1' }, didBatch: null })),
      didBatchItem(didBatch('b1')),
    );
    indexAnswers('+4930111111');
    const { ctx } = contextWith();

    const page = await listDidOffers(ctx, admin, 'c1', berlin);

    expect(gets()).toEqual([customerKey('c1'), didBatchKey('b1')]);
    expect(valuesIn(queries()[0])).toContain('b1');
    expect(page.items).toEqual([
      expect.objectContaining({ activationPrice: '2.50', recurringPrice: '1.59' }),
    ]);
  });
});

describe('listDidOffers from a provider batch', () => {
  it('answers the provider’s search, priced by the batch, as one page', async () => {
    store(customerItem(provisionedCustomer('c1', providerTerms)));
    const { provider, calls } = fakeDidProvider({ offers: [providerOffer('+4930999999')] });
    const { ctx, providersAsked } = contextWith(provider);

    const page = await listDidOffers(ctx, admin, 'c1', berlin);

    expect(page).toEqual({
      items: [
        {
          number: '+4930999999',
          kind: 'local',
          country: 'DE',
          area: '30',
          // 2.00 + 1.00; 1.00 + 0.50 + 1.00 × 10 %.
          activationPrice: '3.00',
          recurringPrice: '1.60',
          currency: 'EUR',
        },
      ],
      nextCursor: null,
    });
    expect(providersAsked).toEqual(['didww']);
    expect(calls).toEqual([
      { method: 'search', args: [{ kind: 'local', country: 'DE', area: '30', limit: 10 }] },
    ]);
    expect(queries()).toEqual([]);
  });
});

describe('listDidOffers refusals', () => {
  it.each([
    ['disabled', { enabled: false, batchId: 'b1' }],
    ['enabled without a batch', { enabled: true, batchId: null }],
  ])('answers 409 did_provisioning_disabled when auto-provisioning is %s', async (_label, did) => {
    store(customerItem(provisionedCustomer('c1', inventoryTerms, { did })));
    const { provider, calls } = fakeDidProvider();
    const { ctx } = contextWith(provider);

    await expect(listDidOffers(ctx, admin, 'c1', berlin)).rejects.toMatchObject({
      status: 409,
      code: 'did_provisioning_disabled',
    });
    expect(queries()).toEqual([]);
    expect(calls).toEqual([]);
  });

  it.each([
    ['another reseller', { role: 'reseller', resellerId: 'r2' } as const],
    ['another customer', { role: 'customer', customerId: 'c2' } as const],
  ])('answers 404 not_found to %s', async (_label, caller) => {
    store(customerItem(provisionedCustomer('c1')));
    const { ctx } = contextWith();

    await expect(listDidOffers(ctx, caller, 'c1', berlin)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(queries()).toEqual([]);
  });

  it('answers 404 not_found for a customer that does not exist', async () => {
    const { ctx } = contextWith();

    await expect(listDidOffers(ctx, admin, 'nope', berlin)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
