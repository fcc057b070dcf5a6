import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
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
import { cancelInTurn, ddb, store, transactions } from '../../../../fixtures/mocked-table.js';
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

  it('counts charges of two customers that share an id, each on its own invoice', async () => {
    store(customerItem(customer('c1')), customerItem(customer('c2')));
    // The close names a number's recurring charge by period and number: a number that
    // changed hands while the close ran is charged to each holder under one id.
    const id = 'did-recurring-2026-11-4930000001';
    const fields = { id, kind: 'did_recurring', period: '2026-11' } as const;
    await countCharges(unitContext, [chargeOf('c1', '1.5', fields), chargeOf('c2', '2', fields)]);
    const counted = transactions();
    expect(counted).toHaveLength(2);
    expect(entryAt(counted[0] ?? [], invoiceKey('c1', '2026-11'))?.values).toContain(1_500_000n);
    expect(entryAt(counted[1] ?? [], invoiceKey('c2', '2026-11'))?.values).toContain(2_000_000n);
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

type Operation = {
  readonly Key?: { readonly pk: string; readonly sk: string };
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
};

/**
 * What each write of each transaction does, resolved from its placeholders without
 * pinning how the expressions are spelled: the values it ADDs and SETs by attribute,
 * and the attributes its condition reads.
 */
const writesOf = () =>
  ddb.commandCalls(TransactWriteCommand).map((call) =>
    (call.args[0].input.TransactItems ?? []).map((transactItem) => {
      const [kind, operation] = Object.entries(transactItem)[0] as [string, Operation];
      const names = operation.ExpressionAttributeNames ?? {};
      const values = operation.ExpressionAttributeValues ?? {};
      const clause = (keyword: string) =>
        new RegExp(`\\b${keyword}\\s+(.*?)(?=\\s+(?:SET|ADD|REMOVE|DELETE)\\s|$)`).exec(
          operation.UpdateExpression ?? '',
        )?.[1] ?? '';
      const pairs = (text: string, separator: string) =>
        Object.fromEntries(
          [...text.matchAll(new RegExp(`(#\\w+)\\s*${separator}\\s*(:\\w+)`, 'g'))].map(
            ([, name = '', value = '']) => [names[name], values[value]],
          ),
        );
      return {
        kind,
        key: operation.Key,
        added: pairs(clause('ADD'), ''),
        set: pairs(clause('SET'), '='),
        conditionOn: [...(operation.ConditionExpression ?? '').matchAll(/#\w+/g)]
          .map(([placeholder]) => names[placeholder])
          .sort(),
      };
    }),
  );
type Written = ReturnType<typeof writesOf>[number][number];
const at = (transaction: readonly Written[] | undefined, key: object) =>
  transaction?.find((write) => JSON.stringify(write.key) === JSON.stringify(key));
const keysOf = (transaction: readonly Written[] | undefined) =>
  (transaction ?? []).map((write) => write.key);
/** The keys a transaction of a customer's own charges writes, in order: the period's shard, the invoice, the markers. */
const countingKeys = (customerId: string, period: string, ...chargeIds: string[]) => [
  billingPeriodKey(period, billingShardOf(customerId)),
  invoiceKey(customerId, period),
  ...chargeIds.map((id) => chargeKey(customerId, id)),
];

describe('countCharges, write by write', () => {
  it('ADDs the exact sums to the invoice, by kind, with the charge count and one version', async () => {
    store(customerItem(customer('c1', { currency: 'CHF' })));
    const batch = [
      chargeOf('c1', '0.1', { currency: 'CHF' }),
      chargeOf('c1', '0.2', { currency: 'CHF' }),
      chargeOf('c1', '2.5', { currency: 'CHF', kind: 'did_activation' }),
      chargeOf('c1', '-1.000001', { currency: 'CHF', kind: 'manual' }),
    ];

    await countCharges(unitContext, batch);

    const [transaction] = writesOf();
    expect(writesOf()).toHaveLength(1);
    expect(at(transaction, invoiceKey('c1', '2026-11'))).toEqual({
      kind: 'Update',
      key: invoiceKey('c1', '2026-11'),
      added: {
        totalMicros: 1_799_999n,
        usageMicros: 300_000n,
        did_activationMicros: 2_500_000n,
        manualMicros: -1_000_001n,
        chargeCount: 4,
        version: 1,
      },
      set: {
        customerId: 'c1',
        period: '2026-11',
        currency: 'CHF',
        consolidatedInto: null,
        entityType: 'invoice',
      },
      conditionOn: [],
    });
  });

  it('marks each charge counted in the period on condition that it is not counted yet, and checks the period’s shard open', async () => {
    store(customerItem(customer('c1')));
    const batch = [chargeOf('c1', '1'), chargeOf('c1', '2')];

    await countCharges(unitContext, batch);

    const [transaction] = writesOf();
    for (const charge of batch) {
      expect(at(transaction, chargeKey('c1', charge.id))).toMatchObject({
        kind: 'Update',
        added: {},
        set: { countedIn: '2026-11' },
        conditionOn: expect.arrayContaining(['countedIn']),
      });
    }
    expect(at(transaction, billingPeriodKey('2026-11', billingShardOf('c1')))).toMatchObject({
      kind: 'ConditionCheck',
      conditionOn: ['closedAt'],
    });
    expect(transaction).toHaveLength(4);
  });

  it('counts a charge of a fixed period in that period, adding it to the shard’s count for the close instead of checking it open', async () => {
    store(customerItem(customer('c1')));
    const recurring = chargeOf('c1', '0.5', { kind: 'did_recurring', period: '2026-10' });
    const usage = chargeOf('c1', '1');

    await countCharges(unitContext, [recurring, usage]);

    const [fixed, free] = writesOf();
    expect(writesOf()).toHaveLength(2);
    expect(keysOf(fixed)).toEqual(
      expect.arrayContaining([invoiceKey('c1', '2026-10'), chargeKey('c1', recurring.id)]),
    );
    expect(at(fixed, billingPeriodKey('2026-10', billingShardOf('c1')))).toEqual({
      kind: 'Update',
      key: billingPeriodKey('2026-10', billingShardOf('c1')),
      added: { recurringCounted: 1 },
      set: { period: '2026-10', shard: billingShardOf('c1'), entityType: 'billingPeriod' },
      conditionOn: [],
    });
    expect(at(fixed, invoiceKey('c1', '2026-10'))?.added).toEqual({
      totalMicros: 500_000n,
      did_recurringMicros: 500_000n,
      chargeCount: 1,
      version: 1,
    });
    expect(at(fixed, chargeKey('c1', recurring.id))?.set).toMatchObject({ countedIn: '2026-10' });
    expect(at(free, billingPeriodKey('2026-11', billingShardOf('c1')))).toBeDefined();
  });

  it.each([
    ['an individually invoicing main office', { hierarchy: { invoicing: 'individual' as const } }],
    [
      'a terminated consolidating main office',
      { status: 'terminated' as const, hierarchy: { invoicing: 'consolidated' as const } },
    ],
  ])('adds no part for a branch of %s', async (_case, shape) => {
    store(customerItem(mainOffice('hq', shape)), customerItem(branchOf('br', 'hq')));

    await countCharges(unitContext, [chargeOf('br', '2')]);

    const [transaction] = writesOf();
    expect(transaction?.some((write) => write.key?.pk.startsWith('CONSOLIDATED#'))).toBe(false);
    expect(at(transaction, invoiceKey('br', '2026-11'))?.set).toMatchObject({
      consolidatedInto: null,
    });
  });

  it('adds the branch’s part to its consolidating main office’s invoice with the same sums', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      customerItem(branchOf('br', 'hq', { name: 'Site A', timezone: 'Pacific/Kiritimati' })),
    );
    // 23:00 UTC on 30 November is already December in Kiritimati.
    const batch = [
      chargeOf('br', '2', { occurredAt: '2026-11-30T23:00:00.000Z' }),
      chargeOf('br', '0.000125', { occurredAt: '2026-11-30T23:00:00.000Z' }),
    ];

    await countCharges(unitContext, batch);

    const [transaction] = writesOf();
    expect(at(transaction, consolidationPartKey('hq', '2026-12', 'br'))).toEqual({
      kind: 'Update',
      key: consolidationPartKey('hq', '2026-12', 'br'),
      added: { totalMicros: 2_000_125n, chargeCount: 2 },
      set: {
        mainOfficeId: 'hq',
        branchId: 'br',
        period: '2026-12',
        name: 'Site A',
        currency: 'EUR',
        entityType: 'consolidationPart',
      },
      conditionOn: [],
    });
    expect(at(transaction, invoiceKey('br', '2026-12'))?.set).toMatchObject({
      consolidatedInto: 'hq',
    });
    expect(transaction).toHaveLength(5);
  });

  it('sends the group again without the charges whose markers failed, with the totals reduced', async () => {
    store(customerItem(customer('c1')));
    const [counted, alsoCounted, fresh, credit] = [
      chargeOf('c1', '1'),
      chargeOf('c1', '2', { kind: 'did_activation' }),
      chargeOf('c1', '4'),
      chargeOf('c1', '-0.5', { kind: 'manual' }),
    ];
    cancelInTurn([{ key: chargeKey('c1', counted.id) }, { key: chargeKey('c1', alsoCounted.id) }]);

    await countCharges(unitContext, [counted, alsoCounted, fresh, credit]);

    const [, again] = writesOf();
    expect(writesOf()).toHaveLength(2);
    expect(keysOf(again)).toEqual(countingKeys('c1', '2026-11', fresh.id, credit.id));
    expect(at(again, invoiceKey('c1', '2026-11'))?.added).toEqual({
      totalMicros: 3_500_000n,
      usageMicros: 4_000_000n,
      manualMicros: -500_000n,
      chargeCount: 2,
      version: 1,
    });
  });

  it('writes nothing when every marker failed: the charges were counted already', async () => {
    store(customerItem(customer('c1')));
    const batch = [chargeOf('c1', '1'), chargeOf('c1', '2')];
    cancelInTurn(batch.map((charge) => ({ key: chargeKey('c1', charge.id) })));

    await expect(countCharges(unitContext, batch)).resolves.toEqual([]);
    expect(writesOf()).toHaveLength(1);
  });

  it('moves the group to the next period, across the year, when its period closed meanwhile', async () => {
    store(customerItem(customer('c1')));
    const charge = chargeOf('c1', '3', { occurredAt: '2026-12-31T23:59:59.999Z' });
    cancelInTurn(
      [{ key: billingPeriodKey('2026-12', billingShardOf('c1')) }],
      [{ key: billingPeriodKey('2027-01', billingShardOf('c1')) }],
    );

    await countCharges(unitContext, [charge]);

    const [, january, february] = writesOf();
    expect(writesOf()).toHaveLength(3);
    expect(keysOf(january)).toContainEqual(billingPeriodKey('2027-01', billingShardOf('c1')));
    expect(keysOf(february)).toEqual(countingKeys('c1', '2027-02', charge.id));
    expect(at(february, invoiceKey('c1', '2027-02'))?.added).toMatchObject({
      totalMicros: 3_000_000n,
      chargeCount: 1,
    });
    expect(at(february, chargeKey('c1', charge.id))?.set).toMatchObject({ countedIn: '2027-02' });
  });

  it('sends the same transaction again after a conflict with another transaction', async () => {
    store(customerItem(customer('c1')));
    const charge = chargeOf('c1', '1');
    cancelInTurn([{ key: chargeKey('c1', charge.id), code: 'TransactionConflict' }]);

    await countCharges(unitContext, [charge]);

    const [first, second] = writesOf();
    expect(writesOf()).toHaveLength(2);
    expect(second).toEqual(first);
  });

  it('counts the countable charges of a batch and answers the others by id, writing nothing of theirs', async () => {
    store(customerItem(customer('c1')));
    const [ghost, dollars, euros] = [
      chargeOf('ghost', '1'),
      chargeOf('c1', '7', { currency: 'USD' }),
      chargeOf('c1', '1'),
    ];

    const uncountable = await countCharges(unitContext, [ghost, dollars, euros]);

    expect(uncountable.map((error) => [error.name, error.charge.id])).toEqual([
      ['UncountableCharge', ghost.id],
      ['UncountableCharge', dollars.id],
    ]);
    const [transaction] = writesOf();
    expect(writesOf()).toHaveLength(1);
    expect(keysOf(transaction)).toEqual(countingKeys('c1', '2026-11', euros.id));
    expect(at(transaction, invoiceKey('c1', '2026-11'))?.added).toMatchObject({
      totalMicros: 1_000_000n,
      chargeCount: 1,
    });
  });

  it('splits 98 charges of a consolidated branch’s invoice into transactions of 97 and 1, each ADDing its own sums', async () => {
    store(
      customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      customerItem(branchOf('br', 'hq')),
    );
    const batch = Array.from({ length: 98 }, () => chargeOf('br', '0.01'));

    await countCharges(unitContext, batch);

    const [full, rest] = writesOf();
    expect(writesOf().map((transaction) => transaction.length)).toEqual([100, 4]);
    expect(at(full, invoiceKey('br', '2026-11'))?.added).toMatchObject({
      totalMicros: 970_000n,
      chargeCount: 97,
    });
    expect(at(full, consolidationPartKey('hq', '2026-11', 'br'))?.added).toEqual({
      totalMicros: 970_000n,
      chargeCount: 97,
    });
    expect(at(rest, invoiceKey('br', '2026-11'))?.added).toMatchObject({
      totalMicros: 10_000n,
      chargeCount: 1,
    });
    expect(at(rest, chargeKey('br', batch[97]?.id ?? ''))).toBeDefined();
  });
});
