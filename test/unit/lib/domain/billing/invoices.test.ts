import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import {
  billingPeriods,
  type ConsolidationPart,
  consolidationParts,
  type InvoiceRecord,
  invoices,
} from '../../../../../lib/data/invoice.js';
import { billingShardOf } from '../../../../../lib/data/keys.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import { listInvoices, readInvoice } from '../../../../../lib/domain/billing/invoices.js';
import { valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { customerKey } from '../../../../fixtures/did-records.js';
import {
  batchGets,
  ddb,
  gets,
  type Item,
  queries,
  store,
} from '../../../../fixtures/mocked-table.js';
import { admin, resellerR1, unitContext } from '../../../../fixtures/service-context.js';

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
const invoiceKey = (customerId: string, period: string) => ({
  pk: `CUSTOMER#${customerId}`,
  sk: `INVOICE#${period}`,
});
const periodKey = (period: string, customerId: string) => ({
  pk: `BILLING_PERIOD#${period}#${billingShardOf(customerId)}`,
  sk: 'BILLING_PERIOD',
});

const invoiceItem = (customerId: string, period: string, fields: Partial<InvoiceRecord> = {}) =>
  invoices.toItem({
    customerId,
    period,
    currency: 'EUR',
    totalMicros: 0n,
    usageMicros: 0n,
    did_activationMicros: 0n,
    did_recurringMicros: 0n,
    manualMicros: 0n,
    chargeCount: 0,
    version: 1,
    consolidatedInto: null,
    ...fields,
  }) as Item;
const periodItem = (period: string, customerId: string, closedAt: string | null) =>
  billingPeriods.toItem({
    period,
    shard: billingShardOf(customerId),
    closedAt,
    recurringCounted: 0,
  }) as Item;
const partOf = (branchId: string, fields: Partial<ConsolidationPart> = {}): ConsolidationPart => ({
  mainOfficeId: 'hq',
  branchId,
  period: '2026-11',
  name: `Customer ${branchId}`,
  currency: 'EUR',
  totalMicros: 0n,
  chargeCount: 1,
  ...fields,
});

/** The consolidation parts the 16 shard queries answer, each by the partition it asks for. */
let partItems: Item[] = [];
const storeParts = (...parts: ConsolidationPart[]) => {
  for (const part of parts) {
    const item = consolidationParts.toItem(part) as Item;
    partItems = [...partItems.filter((other) => other.sk !== item.sk), item];
  }
};
beforeEach(() => {
  partItems = [];
  ddb.on(QueryCommand).callsFake(async (input) => ({
    Items: partItems.filter((item) => valuesIn(input).includes(item.pk)),
  }));
});

const zeroByKind = { usage: '0.00', did_activation: '0.00', did_recurring: '0.00', manual: '0.00' };

describe('readInvoice', () => {
  it('answers the empty open invoice of a period without charges, in one round trip', async () => {
    store(customerItem(customer('c1', { currency: 'USD' })));

    const { invoice, etag } = await readInvoice(unitContext, admin, 'c1', '2026-11');

    expect(invoice).toEqual({
      customerId: 'c1',
      period: '2026-11',
      status: 'open',
      currency: 'USD',
      total: '0.00',
      totalsByKind: zeroByKind,
      chargeCount: 0,
      consolidatedInto: null,
    });
    expect(etag).toMatch(/^"\d{1,15}"$/);
    expect(gets()).toEqual([]);
    expect(batchGets()).toEqual([
      [customerKey('c1'), invoiceKey('c1', '2026-11'), periodKey('2026-11', 'c1')],
    ]);
    // One query per shard of the consolidated parts, all sent beside the BatchGetItem.
    expect(queries()).toHaveLength(16);
  });

  it('changes the ETag of an empty invoice with the customer’s version', async () => {
    store(customerItem(customer('c1', { version: 4 })));
    const before = (await readInvoice(unitContext, admin, 'c1', '2026-11')).etag;
    store(customerItem(customer('c1', { version: 5 })));
    expect((await readInvoice(unitContext, admin, 'c1', '2026-11')).etag).not.toBe(before);
  });

  it('reads the main office for a branch’s empty invoice, which names it while it consolidates', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      customerItem(branchOf('br', 'hq')),
      customerItem(
        mainOffice('hq2', { status: 'terminated', hierarchy: { invoicing: 'consolidated' } }),
      ),
      customerItem(branchOf('late', 'hq2')),
    );
    const { invoice, etag } = await readInvoice(unitContext, admin, 'br', '2026-11');
    expect(invoice.consolidatedInto).toBe('hq');
    expect(gets()).toEqual([customerKey('hq')]);
    expect(
      (await readInvoice(unitContext, admin, 'late', '2026-11')).invoice.consolidatedInto,
    ).toBeNull();

    store(customerItem(mainOffice('hq', { version: 9, hierarchy: { invoicing: 'individual' } })));
    const individual = await readInvoice(unitContext, admin, 'br', '2026-11');
    expect(individual.invoice.consolidatedInto).toBeNull();
    expect(individual.etag).not.toBe(etag);
  });

  it('shows the counted totals exactly, by kind, and the period closed once its shard carries closedAt', async () => {
    store(
      customerItem(branchOf('c1', 'hq')),
      invoiceItem('c1', '2026-11', {
        totalMicros: 123_456_789_012_345_678n,
        usageMicros: 123_456_789_012_345_553n,
        did_activationMicros: 2_500_000n,
        manualMicros: -2_499_875n,
        chargeCount: 7,
        version: 4,
        consolidatedInto: 'hq',
      }),
      periodItem('2026-11', 'c1', '2026-12-01T12:05:00.000Z'),
    );

    const { invoice } = await readInvoice(unitContext, resellerR1, 'c1', '2026-11');

    expect(invoice).toEqual({
      customerId: 'c1',
      period: '2026-11',
      status: 'closed',
      currency: 'EUR',
      total: '123456789012.345678',
      totalsByKind: {
        usage: '123456789012.345553',
        did_activation: '2.50',
        did_recurring: '0.00',
        manual: '-2.499875',
      },
      chargeCount: 7,
      consolidatedInto: 'hq',
    });
  });

  it('is open while the period’s shard exists without closedAt', async () => {
    store(
      customerItem(customer('c1')),
      invoiceItem('c1', '2026-11'),
      periodItem('2026-11', 'c1', null),
    );

    const { invoice } = await readInvoice(unitContext, admin, 'c1', '2026-11');

    expect(invoice.status).toBe('open');
  });

  it('shows a consolidating main office its own total plus every branch part, parts sorted by name', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      invoiceItem('hq', '2026-11', { totalMicros: 1_000_000n, usageMicros: 1_000_000n }),
    );
    storeParts(
      partOf('b3', { name: 'Zurich', totalMicros: 125n }),
      partOf('b1', { name: 'Aachen', totalMicros: 2_500_000n }),
      partOf('b2', { name: 'Aachen', totalMicros: -500_000n }),
    );

    const { invoice } = await readInvoice(unitContext, admin, 'hq', '2026-11');

    expect(invoice.total).toBe('1.00');
    expect(invoice.consolidated).toEqual({
      // 1 + 2.5 − 0.5 + 0.000125
      total: '3.000125',
      currency: 'EUR',
      branches: [
        { customerId: 'b1', name: 'Aachen', total: '2.50' },
        { customerId: 'b2', name: 'Aachen', total: '-0.50' },
        { customerId: 'b3', name: 'Zurich', total: '0.000125' },
      ],
    });
    // The parts live in the shards of their branches.
    const asked = queries().flatMap((query) => valuesIn(query));
    for (const branch of ['b1', 'b2', 'b3']) {
      expect(asked).toContain(`CONSOLIDATED#hq#2026-11#${billingShardOf(branch)}`);
    }
  });

  it('shows the consolidated view of a consolidating main office without parts yet, and of one with parts that stopped consolidating', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      customerItem(mainOffice('hq2', { hierarchy: { invoicing: 'individual' } })),
      customerItem(mainOffice('hq3', { hierarchy: { invoicing: 'individual' } })),
    );
    storeParts(partOf('b1', { mainOfficeId: 'hq2', totalMicros: 4_000_000n }));

    const { invoice: alone } = await readInvoice(unitContext, admin, 'hq', '2026-11');
    const { invoice: before } = await readInvoice(unitContext, admin, 'hq2', '2026-11');
    const { invoice: separate } = await readInvoice(unitContext, admin, 'hq3', '2026-11');

    expect(alone.consolidated).toEqual({ total: '0.00', currency: 'EUR', branches: [] });
    expect(before.consolidated).toEqual({
      total: '4.00',
      currency: 'EUR',
      branches: [{ customerId: 'b1', name: 'Customer b1', total: '4.00' }],
    });
    expect(separate).not.toHaveProperty('consolidated');
  });

  it('changes its ETag with every count, every branch count, the close and a change of the customer, and not otherwise', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      invoiceItem('hq', '2026-11', { chargeCount: 1, version: 1 }),
    );
    const etag = async () => (await readInvoice(unitContext, admin, 'hq', '2026-11')).etag;
    const seen = [await etag()];
    expect(await etag()).toBe(seen[0]);

    store(invoiceItem('hq', '2026-11', { chargeCount: 3, version: 2 }));
    seen.push(await etag());
    storeParts(partOf('b1', { chargeCount: 1 }));
    seen.push(await etag());
    storeParts(partOf('b1', { chargeCount: 2 }));
    seen.push(await etag());
    storeParts(partOf('b2', { chargeCount: 1 }));
    seen.push(await etag());
    store(periodItem('2026-11', 'hq', '2026-12-01T12:05:00.000Z'));
    seen.push(await etag());
    // Switching to individual invoicing changes whether `consolidated` shows.
    store(customerItem(mainOffice('hq', { version: 5, hierarchy: { invoicing: 'individual' } })));
    seen.push(await etag());

    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each<[string, Caller]>([
    ['another reseller', { role: 'reseller', resellerId: 'r2' }],
    ['another customer', { role: 'customer', customerId: 'c2' }],
    ['the switch', { role: 'switch' }],
  ])('answers 404 to %s, as for a customer that does not exist', async (_who, caller) => {
    store(customerItem(customer('c1')), invoiceItem('c1', '2026-11', { totalMicros: 5n }));

    await expect(readInvoice(unitContext, caller, 'c1', '2026-11')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(readInvoice(unitContext, admin, 'ghost', '2026-11')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('answers the customer itself and its reseller', async () => {
    store(customerItem(customer('c1')));

    for (const caller of [{ role: 'customer', customerId: 'c1' } as const, resellerR1]) {
      await expect(readInvoice(unitContext, caller, 'c1', '2026-11')).resolves.toMatchObject({
        invoice: { customerId: 'c1' },
      });
    }
  });
});

describe('listInvoices', () => {
  const answerInvoices = (...items: Item[]) => ddb.on(QueryCommand).resolves({ Items: items });

  it('lists the invoices newest first, each with its period’s status, without the consolidated view', async () => {
    store(
      customerItem(mainOffice('c1', { hierarchy: { invoicing: 'consolidated' } })),
      periodItem('2026-10', 'c1', '2026-11-01T12:05:00.000Z'),
      periodItem('2026-11', 'c1', null),
    );
    answerInvoices(
      invoiceItem('c1', '2026-12', { totalMicros: 1n, usageMicros: 1n, chargeCount: 1 }),
      invoiceItem('c1', '2026-11', { totalMicros: 2_000_000n, manualMicros: 2_000_000n }),
      invoiceItem('c1', '2026-10', { totalMicros: 30_000_000n, usageMicros: 30_000_000n }),
    );

    const page = await listInvoices(unitContext, admin, 'c1', { limit: 10 });

    expect(page.items.map((invoice) => [invoice.period, invoice.status, invoice.total])).toEqual([
      ['2026-12', 'open', '0.000001'],
      ['2026-11', 'open', '2.00'],
      ['2026-10', 'closed', '30.00'],
    ]);
    expect(page.items.every((invoice) => !('consolidated' in invoice))).toBe(true);
    expect(page.items[1]?.totalsByKind).toEqual({ ...zeroByKind, manual: '2.00' });
    expect(page.nextCursor).toBeNull();
    const [query] = queries();
    expect(queries()).toHaveLength(1);
    // Newest first is the table's descending sort-key order; one item more tells a next page.
    expect(query?.ScanIndexForward).toBe(false);
    expect(query?.Limit).toBe(11);
    expect(valuesIn(query)).toEqual(expect.arrayContaining(['CUSTOMER#c1', 'INVOICE#']));
    expect(gets()).toEqual([customerKey('c1')]);
    expect(batchGets()).toEqual([
      [periodKey('2026-12', 'c1'), periodKey('2026-11', 'c1'), periodKey('2026-10', 'c1')],
    ]);
  });

  it('answers a cursor when there are more invoices than the page, and reads no period for an empty list', async () => {
    store(customerItem(customer('c1')));
    answerInvoices(invoiceItem('c1', '2026-12'), invoiceItem('c1', '2026-11'));

    const page = await listInvoices(unitContext, admin, 'c1', { limit: 1 });

    expect(page.items.map((invoice) => invoice.period)).toEqual(['2026-12']);
    expect(page.nextCursor).toEqual(expect.any(String));

    ddb.resetHistory();
    answerInvoices();
    await expect(listInvoices(unitContext, admin, 'c1', { limit: 1 })).resolves.toEqual({
      items: [],
      nextCursor: null,
    });
    expect(batchGets()).toEqual([]);
  });

  it('answers 404 to a caller who may not see the customer', async () => {
    store(customerItem(customer('c1')));
    answerInvoices(invoiceItem('c1', '2026-11'));

    await expect(
      listInvoices(unitContext, { role: 'reseller', resellerId: 'r2' }, 'c1', { limit: 10 }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      listInvoices(unitContext, { role: 'customer', customerId: 'c2' }, 'c1', { limit: 10 }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});
