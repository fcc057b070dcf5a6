import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { didBatchNames, toDidBatch } from '../../../../../lib/data/did-batch.js';
import {
  createDidBatch,
  getDidBatch,
  listDidBatches,
} from '../../../../../lib/domain/dids/batches.js';
import type { CreateDidBatchInput } from '../../../../../lib/schemas/did-batches.js';
import type { ServiceContext } from '../../../../../lib/service-context.js';
import {
  cancelEvery,
  cancelInTurn,
  ddb,
  queries,
  store,
  transactions,
  writes,
} from '../../../../fixtures/mocked-table.js';
import { unitContext as ctx, now } from '../../../../fixtures/service-context.js';
import { didBatch, didBatchItem, didBatchKey } from './support.js';

const nameKey = (folded: string) => ({ pk: 'DID_BATCH_NAMES', sk: folded });

const paid: CreateDidBatchInput = {
  name: 'Berlin Local',
  source: 'inventory',
  pricing: {
    free: false,
    currency: 'EUR',
    activationFee: '1.00',
    recurringFee: '0.50',
    markupPercent: '12.5',
    roundingDecimals: 2,
  },
};

/** A context whose ids are drawn in turn: id-1, id-2, … */
const countingIds = (): ServiceContext => {
  let drawn = 0;
  return { ...ctx, newId: () => `id-${++drawn}` };
};

describe('createDidBatch', () => {
  it('puts the name registry and the batch in one transaction, both only if absent', async () => {
    const created = await createDidBatch(countingIds(), paid);

    const batch = {
      id: 'id-1',
      name: 'Berlin Local',
      source: 'inventory',
      provider: null,
      pricing: paid.pricing,
      createdAt: now,
    };
    expect(created).toEqual({ batch, etag: '"1"' });
    expect(transactions()).toEqual([
      [
        {
          put: { ...nameKey('berlin local'), entityType: 'didBatchName', ...batch },
          conditioned: true,
        },
        {
          put: { ...didBatchKey('id-1'), entityType: 'didBatch', ...batch, version: 1 },
          conditioned: true,
        },
      ],
    ]);
  });

  it('keeps the provider of a provider batch', async () => {
    const created = await createDidBatch(ctx, {
      name: 'DIDWW',
      source: 'provider',
      provider: 'didww',
      pricing: { free: true },
    });
    expect(created.batch).toMatchObject({ source: 'provider', provider: 'didww' });
  });

  it('refuses a name taken in any spelling with 409 name_taken, naming the existing one', async () => {
    const existing = toDidBatch(didBatch('b0', { name: 'BERLIN local' }));
    cancelEvery({ key: nameKey('berlin local'), was: didBatchNames.toItem(existing) });

    await expect(createDidBatch(ctx, paid)).rejects.toMatchObject({
      status: 409,
      code: 'name_taken',
      message: expect.stringContaining('BERLIN local'),
    });
    expect(transactions()).toHaveLength(1);
  });

  it('draws another id when the new one names an existing batch', async () => {
    cancelInTurn([{ key: didBatchKey('id-1') }]);

    const created = await createDidBatch(countingIds(), paid);

    expect(created.batch.id).toBe('id-2');
    expect(transactions()).toHaveLength(2);
    expect(transactions()[1]?.[1]).toMatchObject({ put: didBatchKey('id-2') });
  });
});

describe('getDidBatch', () => {
  it('answers a stored batch with its ETag in one read', async () => {
    const record = didBatch('b1');
    store(didBatchItem(record));

    expect(await getDidBatch(ctx, 'b1')).toEqual({ batch: toDidBatch(record), etag: '"1"' });
  });

  it('answers 404 not_found for an unknown batch', async () => {
    await expect(getDidBatch(ctx, 'nope')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(writes()).toBe(0);
  });
});

describe('listDidBatches', () => {
  const registryItem = (id: string, name: string) =>
    didBatchNames.toItem(toDidBatch(didBatch(id, { name })));

  it('pages the name registry in one Query, asking one item more to know of a next page', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [registryItem('b1', 'Alpha'), registryItem('b2', 'beta')] });

    const page = await listDidBatches(ctx, { limit: 1 });

    expect(page.items).toEqual([toDidBatch(didBatch('b1', { name: 'Alpha' }))]);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(queries()).toHaveLength(1);
    expect(queries()[0]).toMatchObject({ Limit: 2, ConsistentRead: true });
    expect(Object.values(queries()[0]?.ExpressionAttributeValues ?? {})).toContain(
      'DID_BATCH_NAMES',
    );
  });

  it('refuses a cursor of another list with 400', async () => {
    const foreign = Buffer.from(JSON.stringify({ pk: 'CUSTOMERS', sk: 'x' })).toString('base64url');
    await expect(listDidBatches(ctx, { limit: 5, cursor: foreign })).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
    expect(queries()).toEqual([]);
  });
});
