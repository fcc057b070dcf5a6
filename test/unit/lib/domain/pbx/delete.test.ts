import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { deletePbxItem } from '../../../../../lib/domain/pbx/items.js';
import { customer } from '../../../../fixtures/customer-records.js';
import { admin, unitContext as ctx, resellerR1 } from '../../../../fixtures/service-context.js';
import {
  cancelEvery,
  cancellation,
  customerKey,
  ddb,
  extensionItem,
  extensionKey,
  gets,
  huntGroupItem,
  huntGroupKey,
  offices,
  registryKey,
  store,
  terminated,
  transactions,
  unstore,
  writes,
} from './support.js';

describe('deletePbxItem', () => {
  it('answers 409 inherited_item when the branch’s own item is absent and its main office has it, writing nothing', async () => {
    store(...offices(), extensionItem('hq', '101'));

    await expect(deletePbxItem(ctx, admin, 'b1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'inherited_item',
    });
    expect(gets()).toEqual([
      customerKey('b1'),
      extensionKey('b1', '101'),
      extensionKey('hq', '101'),
    ]);
    expect(writes()).toBe(0);
  });

  it('answers 409 inherited_item for a main office’s hunt group seen from a branch', async () => {
    store(...offices(), huntGroupItem('hq', '300', []));

    await expect(deletePbxItem(ctx, admin, 'b1', 'huntGroup', '300')).rejects.toMatchObject({
      status: 409,
      code: 'inherited_item',
    });
    expect(gets().at(-1)).toEqual(huntGroupKey('hq', '300'));
  });

  it('answers 404 for a branch when neither it nor its main office has the item', async () => {
    // The same number of the other kind, or of a sibling branch, is not the item.
    store(...offices(), huntGroupItem('hq', '101', []), extensionItem('b2', '101'));

    await expect(deletePbxItem(ctx, admin, 'b1', 'extension', '101')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([
      customerKey('b1'),
      extensionKey('b1', '101'),
      extensionKey('hq', '101'),
    ]);
    expect(writes()).toBe(0);
  });

  it('answers 404 for a root customer without the item after reading only it and the item', async () => {
    store(...offices(), extensionItem('b1', '101'));

    await expect(deletePbxItem(ctx, admin, 'hq', 'extension', '101')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([customerKey('hq'), extensionKey('hq', '101')]);
    expect(writes()).toBe(0);
  });

  it('answers 404 out of scope and 409 for a terminated customer, writing nothing', async () => {
    store(
      ...offices(),
      customerItem(customer('c2', terminated)),
      extensionItem('c1', '101'),
      extensionItem('c2', '101'),
    );

    await expect(
      deletePbxItem(ctx, { role: 'customer', customerId: 'c2' }, 'c1', 'extension', '101'),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(deletePbxItem(ctx, admin, 'c2', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(writes()).toBe(0);
  });

  it('answers 409 extension_in_use for an extension a hunt group uses, without writing', async () => {
    store(...offices(), extensionItem('c1', '101', { usedBy: 2 }));

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'extension_in_use',
    });
    expect(writes()).toBe(0);
  });

  it.each([
    ['never used', {}],
    ['no longer used', { usedBy: 0 }],
  ])(
    'deletes a standalone customer’s extension %s and releases its number, without a reservation condition',
    async (_label, extra) => {
      store(...offices(), extensionItem('c1', '101', extra));

      await expect(deletePbxItem(ctx, resellerR1, 'c1', 'extension', '101')).resolves.toBe(
        undefined,
      );

      expect(ddb.calls()).toHaveLength(3);
      const [written] = transactions();
      expect(written).toHaveLength(3);
      expect(written).toEqual(
        expect.arrayContaining([
          { check: customerKey('c1'), values: expect.arrayContaining(['active', 'c1']) },
          { delete: extensionKey('c1', '101'), conditioned: true },
          {
            update: registryKey('c1'),
            values: expect.arrayContaining([new Set(['101'])]),
            conditioned: false,
          },
        ]),
      );
    },
  );

  it('deletes a branch’s hunt group: its number leaves the main office’s registry and its own, and each member is uncounted at its owner', async () => {
    store(
      ...offices(),
      extensionItem('hq', '101', { usedBy: 1 }),
      extensionItem('b1', '201', { usedBy: 1 }),
      huntGroupItem('b1', '300', [
        { number: '101', ownerId: 'hq' },
        { number: '201', ownerId: 'b1' },
      ]),
    );

    await deletePbxItem(ctx, admin, 'b1', 'huntGroup', '300');

    expect(gets()).toEqual([customerKey('b1'), huntGroupKey('b1', '300')]);
    const [written] = transactions();
    expect(written).toHaveLength(6);
    expect(written).toEqual(
      expect.arrayContaining([
        { check: customerKey('b1'), values: expect.arrayContaining(['active', 'hq']) },
        { delete: huntGroupKey('b1', '300'), conditioned: true },
        {
          update: registryKey('hq'),
          values: expect.arrayContaining([new Set(['300'])]),
          conditioned: false,
        },
        // Its one member of the main office leaves the branch's count.
        {
          update: registryKey('b1'),
          values: expect.arrayContaining([new Set(['300']), -1]),
          conditioned: false,
        },
        {
          update: extensionKey('hq', '101'),
          values: expect.arrayContaining([-1]),
          conditioned: true,
        },
        {
          update: extensionKey('b1', '201'),
          values: expect.arrayContaining([-1]),
          conditioned: true,
        },
      ]),
    );
  });

  it('answers 409 extension_in_use from the delete’s refusal once a hunt group took the extension meanwhile', async () => {
    store(...offices(), extensionItem('c1', '101'));
    cancelEvery({ key: extensionKey('c1', '101'), was: extensionItem('c1', '101', { usedBy: 1 }) });

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'extension_in_use',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(gets()).toHaveLength(2);
  });

  it('reads again when the item was deleted meanwhile, and answers 404', async () => {
    store(...offices(), extensionItem('c1', '101'));
    ddb.on(TransactWriteCommand).callsFakeOnce(async (input) => {
      unstore(extensionKey('c1', '101'));
      throw cancellation(input, [{ key: extensionKey('c1', '101') }]);
    });

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([
      customerKey('c1'),
      extensionKey('c1', '101'),
      customerKey('c1'),
      extensionKey('c1', '101'),
    ]);
  });

  it('answers 409 customer_terminated when the check finds the customer terminated meanwhile', async () => {
    store(...offices(), extensionItem('c1', '101'));
    cancelEvery({ key: customerKey('c1'), was: customerItem(customer('c1', terminated)) });

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts, and lets other errors through', async () => {
    store(...offices(), extensionItem('c1', '101'));
    cancelEvery({ key: registryKey('c1'), code: 'TransactionConflict' });

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);

    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);
    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toBe(throttled);
  });
});
