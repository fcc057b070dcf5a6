import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { importNumbers } from '../../../../../lib/domain/dids/inventory.js';
import { type InventoryEntry, importNumbersBody } from '../../../../../lib/schemas/did-batches.js';
import {
  cancellation,
  ddb,
  gets,
  store,
  transactions,
  writes,
} from '../../../../fixtures/mocked-table.js';
import { unitContext as ctx, now } from '../../../../fixtures/service-context.js';
import { didBatch, didBatchItem, didBatchKey, didNumberKey } from './support.js';

const entry = (number: string, fields: Partial<InventoryEntry> = {}): InventoryEntry => ({
  number,
  kind: 'local',
  country: 'DE',
  area: '30',
  activationCost: '1.50',
  recurringCost: '0.99',
  ...fields,
});

/** The numbers of `count` entries: +4930100000, +4930100001, … */
const numbers = (count: number) =>
  Array.from({ length: count }, (_, index) => `+49301${String(index).padStart(5, '0')}`);

/** Transactions that register any of these numbers fail the condition of each: the numbers are taken. */
const alreadyRegistered = (...taken: string[]) =>
  ddb.on(TransactWriteCommand).callsFake(async (input) => {
    type Put = { pk?: string; number?: string };
    const registered = ((input.TransactItems ?? []) as { Put?: { Item?: Put } }[])
      .map((item): Put => item.Put?.Item ?? {})
      .filter((item) => item.pk?.startsWith('DID#') && taken.includes(item.number ?? ''));
    if (registered.length > 0) {
      throw cancellation(
        input,
        registered.map((item: Put) => ({ key: didNumberKey(item.number ?? '') })),
      );
    }
    return {};
  });

describe('importNumbers', () => {
  it('reads the batch, then writes each number as one available item, all in one transaction', async () => {
    store(didBatchItem(didBatch('b1')));

    const result = await importNumbers(ctx, 'b1', [
      entry('+4930111111'),
      entry('+18005550100', { kind: 'toll_free', country: 'US', area: undefined }),
    ]);

    expect(result).toEqual({ added: ['+4930111111', '+18005550100'], rejected: [] });
    expect(gets()).toEqual([didBatchKey('b1')]);
    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]).toEqual([
      {
        put: expect.objectContaining({
          ...didNumberKey('+4930111111'),
          entityType: 'didNumber',
          number: '+4930111111',
          batchId: 'b1',
          source: 'inventory',
          kind: 'local',
          country: 'DE',
          area: '30',
          activationCost: '1.50',
          recurringCost: '0.99',
          status: 'available',
          customerId: null,
          addedAt: now,
          // What the batch's offers index finds it by.
          availableIn: 'b1',
          availablePlace: 'local#DE#30#+4930111111',
        }),
        conditioned: true,
      },
      {
        put: expect.objectContaining({
          number: '+18005550100',
          area: null,
          availableIn: 'b1',
          availablePlace: 'toll_free#US#-#+18005550100',
        }),
        conditioned: true,
      },
    ]);
  });

  it('rejects a number already in the inventory as duplicate while the others land', async () => {
    store(didBatchItem(didBatch('b1')));
    alreadyRegistered('+4930222222');

    const result = await importNumbers(ctx, 'b1', [
      entry('+4930111111'),
      entry('+4930222222'),
      entry('+4930333333'),
    ]);

    expect(result).toEqual({
      added: ['+4930111111', '+4930333333'],
      rejected: [{ number: '+4930222222', reason: 'duplicate' }],
    });
    // The refused transaction is sent again without the taken number: one more round trip.
    const [refused, written] = transactions();
    expect(refused).toHaveLength(3);
    expect(written).toHaveLength(2);
    const numbersWritten = (written ?? []).map((entry) => entry.put?.number);
    expect(new Set(numbersWritten)).toEqual(new Set(['+4930111111', '+4930333333']));
  });

  it('tries a transaction that met a concurrent import again, and then finds the number taken', async () => {
    store(didBatchItem(didBatch('b1')));
    ddb
      .on(TransactWriteCommand)
      .callsFakeOnce(async (input) => {
        throw cancellation(input, [
          { key: didNumberKey('+4930111111'), code: 'TransactionConflict' },
        ]);
      })
      .callsFakeOnce(async (input) => {
        throw cancellation(input, [{ key: didNumberKey('+4930111111') }]);
      });

    const result = await importNumbers(ctx, 'b1', [entry('+4930111111')]);

    expect(result).toEqual({
      added: [],
      rejected: [{ number: '+4930111111', reason: 'duplicate' }],
    });
    expect(transactions()).toHaveLength(2);
  });

  it('sends a throttled transaction again, without losing or doubling a number', async () => {
    store(didBatchItem(didBatch('b1')));
    ddb
      .on(TransactWriteCommand)
      .callsFakeOnce(async (input) => {
        throw cancellation(input, [
          { key: didNumberKey('+4930111111'), code: 'ThrottlingError' as never },
        ]);
      })
      .resolves({});

    const result = await importNumbers(ctx, 'b1', [entry('+4930111111'), entry('+4930222222')]);

    expect(result).toEqual({ added: ['+4930111111', '+4930222222'], rejected: [] });
    expect(transactions().map((items) => items.length)).toEqual([2, 2]);
  });

  it('writes 1,000 numbers as 10 transactions of 100, at most 4 in flight', async () => {
    store(didBatchItem(didBatch('b1')));
    let inFlight = 0;
    let most = 0;
    ddb.on(TransactWriteCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return {};
    });

    const result = await importNumbers(
      ctx,
      'b1',
      numbers(1000).map((number) => entry(number)),
    );

    expect(result.added).toHaveLength(1000);
    expect(transactions().map((items) => items.length)).toEqual(Array(10).fill(100));
    expect(most).toBe(4);
  });

  it('answers 404 not_found for an unknown batch, writing nothing', async () => {
    await expect(importNumbers(ctx, 'nope', [entry('+4930111111')])).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(writes()).toBe(0);
  });

  it('refuses a provider batch with 409 batch_not_inventory, writing nothing', async () => {
    store(didBatchItem(didBatch('p1', { source: 'provider', provider: 'didww' })));

    await expect(importNumbers(ctx, 'p1', [entry('+4930111111')])).rejects.toMatchObject({
      status: 409,
      code: 'batch_not_inventory',
    });
    expect(writes()).toBe(0);
  });
});

describe('the import body', () => {
  const errorsOf = (body: unknown) => {
    const parsed = importNumbersBody.safeParse(body);
    expect(parsed.success).toBe(false);
    return parsed.error?.issues.map((issue) => issue.path.join('.'));
  };

  it('takes 1 to 1,000 entries', () => {
    const entries = (count: number) => numbers(count).map((number) => entry(number));
    expect(importNumbersBody.safeParse({ numbers: entries(1000) }).success).toBe(true);
    expect(errorsOf({ numbers: entries(1001) })).toEqual(['numbers']);
    expect(errorsOf({ numbers: [] })).toEqual(['numbers']);
  });

  it('refuses a number named twice in one call, at each repetition', () => {
    expect(
      errorsOf({
        numbers: [entry('+4930111111'), entry('+4930222222'), entry('+4930111111')],
      }),
    ).toEqual(['numbers.2.number']);
  });

  it('refuses amounts that are not exact decimal strings, unknown kinds and bad places', () => {
    expect(
      errorsOf({
        numbers: [
          { ...entry('+4930111111'), activationCost: 1.5 },
          entry('+4930222222', { recurringCost: '0.1234567' }),
          { ...entry('+4930333333'), kind: 'mobile' },
          entry('+0123', {}),
          entry('+4930444444', { country: 'de' }),
          entry('+4930555555', { area: 'with space' }),
        ],
      }),
    ).toEqual([
      'numbers.0.activationCost',
      'numbers.1.recurringCost',
      'numbers.2.kind',
      'numbers.3.number',
      'numbers.4.country',
      'numbers.5.area',
    ]);
  });
});
