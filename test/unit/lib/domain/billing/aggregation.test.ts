import { describe, expect, it } from 'vitest';
import type { Charge } from '../../../../../lib/data/charge.js';
import { customerItem } from '../../../../../lib/data/customer.js';
import {
  billingPeriodKey,
  billingShardOf,
  chargeKey,
  consolidationPartKey,
  invoiceKey,
} from '../../../../../lib/data/keys.js';
import { countCharges } from '../../../../../lib/domain/billing/aggregation.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { cancelInTurn, store, transactions } from '../../../../fixtures/mocked-table.js';
import { unitContext } from '../../../../fixtures/service-context.js';

let ids = 0;
const chargeOf = (customerId: string, amount: string, fields: Partial<Charge> = {}): Charge => ({
  id: `ch${++ids}`,
  customerId,
  amount,
  currency: 'EUR',
  kind: 'usage',
  description: 'call',
  occurredAt: '2026-11-20T10:00:00.000Z',
  period: null,
  ...fields,
});

const text = (value: unknown) =>
  JSON.stringify(value, (_, inner) => (typeof inner === 'bigint' ? inner.toString() : inner));

/** The entry of a transaction that writes this key. */
const entryAt = (transaction: ReturnType<typeof transactions>[number], key: object) =>
  transaction.find((entry) => JSON.stringify(Object.values(entry)[0]) === JSON.stringify(key));

describe('countCharges', () => {
  it('writes one transaction per invoice: exact sums by kind, the period check and a marker per charge', async () => {
    store(
      customerItem(customer('c1')),
      customerItem(customer('c2', { timezone: 'Europe/Berlin' })),
    );
    const batch = [
      chargeOf('c1', '0.1'),
      chargeOf('c1', '0.2'),
      chargeOf('c1', '-1.000001', { kind: 'manual' }),
      chargeOf('c2', '5', { occurredAt: '2026-11-30T23:30:00.000Z' }),
    ];
    expect(await countCharges(unitContext, batch)).toEqual([]);

    const [first, second] = transactions();
    expect(transactions()).toHaveLength(2);
    expect(entryAt(first ?? [], invoiceKey('c1', '2026-11'))?.values).toEqual(
      expect.arrayContaining([300_000n - 1_000_001n, 300_000n, -1_000_001n, 3, 1, 'EUR']),
    );
    expect(entryAt(first ?? [], billingPeriodKey('2026-11', billingShardOf('c1')))).toBeDefined();
    for (const charge of batch.slice(0, 3)) {
      expect(entryAt(first ?? [], chargeKey('c1', charge.id))).toMatchObject({ conditioned: true });
    }
    // Berlin's December began at 23:00 UTC.
    expect(entryAt(second ?? [], invoiceKey('c2', '2026-12'))?.values).toEqual(
      expect.arrayContaining([5_000_000n, 1]),
    );
  });

  it('adds a branch’s part only while its main office is active and consolidated', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      customerItem(branchOf('br', 'hq', { name: 'Site A' })),
      customerItem(
        mainOffice('hq2', { status: 'terminated', hierarchy: { invoicing: 'consolidated' } }),
      ),
      customerItem(branchOf('late', 'hq2')),
    );
    await countCharges(unitContext, [chargeOf('br', '2'), chargeOf('late', '3')]);
    const [branch, late] = transactions();
    expect(entryAt(branch ?? [], consolidationPartKey('hq', '2026-11', 'br'))?.values).toEqual(
      expect.arrayContaining([2_000_000n, 'Site A', 'hq']),
    );
    expect(entryAt(branch ?? [], invoiceKey('br', '2026-11'))?.values).toContain('hq');
    expect(late?.some((entry) => text(entry).includes('CONSOLIDATED#'))).toBe(false);
  });

  it('sends the group again without the charges counted meanwhile, and to the next period when this one closed', async () => {
    store(customerItem(customer('c1')));
    const [counted, fresh] = [chargeOf('c1', '1'), chargeOf('c1', '2')];
    cancelInTurn(
      [{ key: chargeKey('c1', counted.id) }],
      [{ key: billingPeriodKey('2026-11', billingShardOf('c1')) }],
    );
    await countCharges(unitContext, [counted, fresh]);
    const [, withoutCounted, nextPeriod] = transactions();
    expect(transactions()).toHaveLength(3);
    expect(entryAt(withoutCounted ?? [], chargeKey('c1', counted.id))).toBeUndefined();
    expect(entryAt(withoutCounted ?? [], invoiceKey('c1', '2026-11'))?.values).toContain(
      2_000_000n,
    );
    expect(entryAt(nextPeriod ?? [], invoiceKey('c1', '2026-12'))?.values).toContain(2_000_000n);
  });

  it('answers the charges it can never count and writes nothing for them; skips charges counted already', async () => {
    store(customerItem(customer('c1')));
    const uncountable = await countCharges(unitContext, [
      chargeOf('ghost', '1'),
      chargeOf('c1', '1', { currency: 'USD' }),
      chargeOf('c1', '1', { countedIn: '2026-11' }),
    ]);
    expect(uncountable.map((error) => error.message)).toEqual([
      expect.stringContaining('no customer ghost'),
      expect.stringContaining('bills in EUR'),
    ]);
    expect(transactions()).toEqual([]);
  });

  it('splits an invoice’s charges over transactions of at most 100 writes, and counts a charge delivered twice once', async () => {
    store(customerItem(customer('c1')));
    const many = Array.from({ length: 150 }, () => chargeOf('c1', '0.01'));
    await countCharges(unitContext, [...many, ...many.slice(0, 10)]);
    const sizes = transactions().map((transaction) => transaction.length);
    expect(sizes.every((size) => size <= 100)).toBe(true);
    const markers = transactions()
      .flat()
      .filter((entry) => text(entry).includes('CHARGE#'));
    expect(markers).toHaveLength(150);
  });
});
