import { DeleteCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  finishProviderRelease,
  releaseDid,
  releaseDidsOfTerminated,
} from '../../../../../lib/domain/dids/release.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import {
  contextWith,
  customerDid,
  customerDidItem,
  customerDidKey,
  customerKey,
  didNumberItem,
  didNumberKey,
  fakeDidProvider,
  providerDid,
} from '../../../../fixtures/did-records.js';
import {
  batchGets,
  cancelEvery,
  cancelInTurn,
  ddb,
  gets,
  queries,
  store,
  transactions,
  writes,
} from '../../../../fixtures/mocked-table.js';
import { now, resellerR1 } from '../../../../fixtures/service-context.js';

const number = '+4930111111';

/** The update of the number's own item in the `index`th transaction. */
const numberUpdate = (index: number) =>
  ddb
    .commandCalls(TransactWriteCommand)
    [index]?.args[0].input.TransactItems?.find((item) => item.Update)?.Update;

describe('releaseDid', () => {
  it('returns an inventory number to its batch as available, with releasedAt, in one transaction and no read', async () => {
    const { ctx } = contextWith();

    await releaseDid(ctx, resellerR1, 'c1', number);

    expect(gets()).toEqual([]);
    expect(batchGets()).toEqual([]);
    expect(transactions()).toEqual([
      [
        { check: customerKey('c1'), values: expect.arrayContaining(['r1']) },
        { delete: customerDidKey('c1', number), conditioned: true },
        {
          update: didNumberKey(number),
          values: expect.arrayContaining(['available', now, 'assigned', 'c1', 'inventory']),
          conditioned: true,
        },
      ],
    ]);
    // Back in the batch's offers: the index keys are set again, with the release time.
    expect(namesIn(numberUpdate(0))).toEqual(
      expect.arrayContaining(['releasedAt', 'availableIn', 'availablePlace']),
    );
  });

  it('hands a provider number to the provider release (releasing) when the inventory write finds it is not one', async () => {
    cancelInTurn([{ key: didNumberKey(number) }]);
    const { ctx } = contextWith();

    await releaseDid(ctx, resellerR1, 'c1', number);

    const [inventoryAttempt, providerRelease] = transactions();
    expect(inventoryAttempt?.[2]).toMatchObject({ update: didNumberKey(number) });
    expect(providerRelease).toEqual([
      { check: customerKey('c1'), values: expect.arrayContaining(['r1']) },
      { delete: customerDidKey('c1', number), conditioned: true },
      {
        update: didNumberKey(number),
        values: expect.arrayContaining(['releasing', now, 'assigned', 'c1', 'provider']),
        conditioned: true,
      },
    ]);
    expect(valuesIn(numberUpdate(1))).not.toContain('available');
  });

  it.each([
    ['a number the customer does not hold', [customerDidKey('c1', number), didNumberKey(number)]],
    ['another reseller’s customer', [customerKey('c1')]],
  ])('answers 404 not_found for %s, writing nothing more', async (_label, failing) => {
    cancelEvery(...failing.map((key) => ({ key })));
    const { ctx } = contextWith();

    await expect(releaseDid(ctx, resellerR1, 'c1', number)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    // Only the cancelled transaction: no provider release tried, nothing else written.
    expect(writes()).toBe(1);
  });
});

describe('releaseDidsOfTerminated', () => {
  const inventoryHolding = customerDid('c1', number);
  const providerHolding = customerDid('c1', '+4930222222', { source: 'provider', batchId: 'p1' });

  it('releases every number the terminated customer holds, each by its source, with no customer check', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [inventoryHolding, providerHolding].map(customerDidItem) });
    const { ctx } = contextWith();

    await releaseDidsOfTerminated(ctx, 'c1');

    expect(queries()).toEqual([expect.objectContaining({ ConsistentRead: true, Limit: 101 })]);
    expect(valuesIn(queries()[0])).toEqual(expect.arrayContaining(['CUSTOMER#c1']));
    expect(transactions()).toEqual([
      [
        { delete: customerDidKey('c1', number), conditioned: true },
        {
          update: didNumberKey(number),
          values: expect.arrayContaining(['available', now, 'inventory']),
          conditioned: true,
        },
      ],
      [
        { delete: customerDidKey('c1', '+4930222222'), conditioned: true },
        {
          update: didNumberKey('+4930222222'),
          values: expect.arrayContaining(['releasing', now, 'provider']),
          conditioned: true,
        },
      ],
    ]);
  });

  it('counts a number released meanwhile as done', async () => {
    ddb.on(QueryCommand).resolves({ Items: [customerDidItem(inventoryHolding)] });
    cancelEvery({ key: customerDidKey('c1', number) }, { key: didNumberKey(number) });
    const { ctx } = contextWith();

    await expect(releaseDidsOfTerminated(ctx, 'c1')).resolves.toBeUndefined();
  });
});

describe('finishProviderRelease', () => {
  const releasing = providerDid(number, 'c1', { status: 'releasing', customerId: null });

  it('releases the DID at its provider, then deletes the number’s item', async () => {
    store(didNumberItem(releasing));
    const { provider, calls } = fakeDidProvider();
    const { ctx, providersAsked } = contextWith(provider);

    await finishProviderRelease(ctx, number);

    expect(providersAsked).toEqual(['didww']);
    expect(calls).toEqual([{ method: 'release', args: [`pd-${number}`] }]);
    const deletes = ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input);
    expect(deletes.map((input) => input.Key)).toEqual([didNumberKey(number)]);
    expect(valuesIn(deletes[0])).toEqual(expect.arrayContaining(['releasing', 'o1']));
  });

  it.each([
    ['gone', undefined],
    ['assigned again', providerDid(number, 'c2')],
  ])('does nothing for a number %s (a record delivered twice)', async (_label, did) => {
    if (did) store(didNumberItem(did));
    const { provider, calls } = fakeDidProvider();
    const { ctx } = contextWith(provider);

    await finishProviderRelease(ctx, number);

    expect(calls).toEqual([]);
    expect(writes()).toBe(0);
  });
});
