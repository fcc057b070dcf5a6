import { describe, expect, it } from 'vitest';
import { compileEventFilter } from '../../../../infra/local/event-filter.js';
import { type Charge, charges } from '../../../../lib/data/charge.js';
import { customerItem } from '../../../../lib/data/customer.js';
import { invoiceAggregationConsumer } from '../../../../lib/streams/invoice-aggregation.js';
import { customer } from '../../../fixtures/customer-records.js';
import { modifyRecord, streamRecord } from '../../../fixtures/stream-records.js';

const charge: Charge = {
  id: 'ch1',
  customerId: 'c1',
  amount: '1.5',
  currency: 'EUR',
  kind: 'usage',
  description: 'call',
  occurredAt: '2026-11-20T10:00:00.000Z',
  period: null,
};
const uncounted = charges.toItem(charge);
const counted = { ...uncounted, countedIn: '2026-11' };

describe('the filter patterns of the invoice-aggregation consumer', () => {
  const passes = compileEventFilter(invoiceAggregationConsumer.filterPatterns);

  it.each([
    ['a charge recorded', streamRecord('INSERT', { newImage: uncounted })],
    [
      'a charge not counted yet, touched to re-drive it',
      modifyRecord(uncounted, { ...uncounted, redrivenAt: '2026-12-07T10:00:00Z' }),
    ],
  ])('accepts %s', (_label, record) => {
    expect(passes(record)).toBe(true);
  });

  it.each([
    ['the marker of a charge counted', modifyRecord(uncounted, counted)],
    [
      'a counted charge touched',
      modifyRecord(counted, { ...counted, redrivenAt: '2026-12-07T10:00:00Z' }),
    ],
    ['a charge removed', streamRecord('REMOVE', { oldImage: uncounted })],
    ['a customer created', streamRecord('INSERT', { newImage: customerItem(customer('c1')) })],
  ])('drops %s', (_label, record) => {
    expect(passes(record)).toBe(false);
  });
});
