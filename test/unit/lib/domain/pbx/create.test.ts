import { BatchGetCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import { createExtension, createHuntGroup } from '../../../../../lib/domain/pbx/items.js';
import type { HuntGroup } from '../../../../../lib/schemas/pbx.js';
import { branchOf, customer } from '../../../../fixtures/customer-records.js';
import { admin, unitContext as ctx, resellerR1 } from '../../../../fixtures/service-context.js';
import {
  batchGets,
  cancelEvery,
  cancellation,
  customerKey,
  ddb,
  extensionItem,
  extensionKey,
  gets,
  huntGroupKey,
  offices,
  registryKey,
  store,
  terminated,
  transactions,
  unstore,
  writes,
  writesTo,
} from './support.js';

const reception = { number: '101', name: 'Reception' };

/** A registry as stored: written by UpdateItems only, so it has no customerId. */
const registryHolding = (owner: string, ...numbers: string[]) => ({
  ...registryKey(owner),
  entityType: 'pbxRegistry',
  reserved: new Set(numbers),
  own: new Set(numbers),
  revision: 3,
});

describe('createExtension', () => {
  it('reads a standalone customer, then in one transaction checks it, reserves the number in its own registry and puts the item', async () => {
    store(...offices());

    await expect(
      createExtension(ctx, resellerR1, 'c1', { ...reception, accountNumber: '+4930100000' }),
    ).resolves.toStrictEqual({
      number: '101',
      name: 'Reception',
      accountNumber: '+4930100000',
      inheritedFrom: null,
    });

    expect(ddb.calls()).toHaveLength(2);
    expect(gets()).toEqual([customerKey('c1')]);
    const [written] = transactions();
    expect(written).toHaveLength(3);
    expect(written).toEqual(
      expect.arrayContaining([
        { check: customerKey('c1'), values: expect.arrayContaining(['active', 'c1']) },
        {
          update: registryKey('c1'),
          values: expect.arrayContaining([new Set(['101'])]),
          conditioned: true,
        },
        {
          put: {
            ...extensionKey('c1', '101'),
            entityType: 'extension',
            number: '101',
            name: 'Reception',
            ownerId: 'c1',
            accountNumber: '+4930100000',
          },
          conditioned: true,
        },
      ]),
    );
  });

  it('stores a null accountNumber when none is given', async () => {
    store(...offices());

    await expect(createExtension(ctx, admin, 'c1', { number: '7', name: 'Lab' })).resolves.toEqual({
      number: '7',
      name: 'Lab',
      accountNumber: null,
      inheritedFrom: null,
    });
    expect(writesTo(extensionKey('c1', '7'))).toEqual([
      { put: expect.objectContaining({ accountNumber: null }), conditioned: true },
    ]);
  });

  it('reserves the number of a main office in its own registry, its group being itself', async () => {
    store(...offices());

    await createExtension(ctx, admin, 'hq', { number: '200', name: 'Desk' });

    expect(transactions()[0]).toHaveLength(3);
    expect(writesTo(registryKey('hq'))).toEqual([
      expect.objectContaining({
        conditioned: true,
        values: expect.arrayContaining([new Set(['200'])]),
      }),
    ]);
  });

  it('reserves the number of a branch in its main office’s registry and records it, unconditioned, in its own', async () => {
    store(...offices());

    await expect(
      createExtension(ctx, resellerR1, 'b1', { number: '201', name: 'Branch desk' }),
    ).resolves.toStrictEqual({
      number: '201',
      name: 'Branch desk',
      accountNumber: null,
      inheritedFrom: null,
    });

    expect(gets()).toEqual([customerKey('b1')]);
    const [written] = transactions();
    expect(written).toHaveLength(4);
    expect(written).toEqual(
      expect.arrayContaining([
        { check: customerKey('b1'), values: expect.arrayContaining(['active', 'hq']) },
        {
          update: registryKey('hq'),
          values: expect.arrayContaining([new Set(['201'])]),
          conditioned: true,
        },
        {
          update: registryKey('b1'),
          values: expect.arrayContaining([new Set(['201'])]),
          conditioned: false,
        },
        {
          put: expect.objectContaining({ ...extensionKey('b1', '201'), ownerId: 'b1' }),
          conditioned: true,
        },
      ]),
    );
  });

  it.each([
    ['an absent customer', admin, false],
    ['a customer of another reseller', { role: 'reseller', resellerId: 'r2' } as Caller, true],
    ['another customer', { role: 'customer', customerId: 'c2' } as Caller, true],
  ])('answers 404 for %s after reading only the customer', async (_label, caller, stored) => {
    if (stored) store(...offices());

    await expect(createExtension(ctx, caller, 'c1', reception)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([customerKey('c1')]);
    expect(writes()).toBe(0);
  });

  it('answers 409 customer_terminated for a terminated customer without writing', async () => {
    store(customerItem(customer('c1', terminated)));

    await expect(createExtension(ctx, admin, 'c1', reception)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(writes()).toBe(0);
  });

  it.each([
    ['a standalone customer', 'c1', 'c1', false],
    ['a standalone customer whose item also exists', 'c1', 'c1', true],
    ['a branch', 'b1', 'hq', false],
  ])(
    'answers 409 number_conflict when the group’s registry refuses the number, for %s, without retrying',
    async (_label, id, group, itemExists) => {
      store(...offices());
      cancelEvery(
        { key: registryKey(group), was: registryHolding(group, '101') },
        ...(itemExists ? [{ key: extensionKey(id, '101'), was: extensionItem(id, '101') }] : []),
      );

      await expect(createExtension(ctx, admin, id, reception)).rejects.toMatchObject({
        status: 409,
        code: 'number_conflict',
        errors: [{ path: 'numbers.101' }],
      });
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
      expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    },
  );

  it('retries with a fresh read when the customer moved to another group, planning for the group it now reads', async () => {
    store(...offices());
    const linked = customerItem(branchOf('c1', 'hq'));
    ddb
      .on(TransactWriteCommand)
      .callsFakeOnce(async (input) => {
        store(linked);
        throw cancellation(input, [{ key: customerKey('c1'), was: linked }]);
      })
      .resolves({});

    await expect(createExtension(ctx, admin, 'c1', reception)).resolves.toMatchObject({
      number: '101',
      inheritedFrom: null,
    });

    expect(gets()).toEqual([customerKey('c1'), customerKey('c1')]);
    const [first, second] = transactions();
    expect(first?.map((entry) => Object.values(entry)[0])).toEqual(
      expect.arrayContaining([registryKey('c1')]),
    );
    expect(second?.map((entry) => Object.values(entry)[0])).toEqual(
      expect.arrayContaining([registryKey('hq'), registryKey('c1')]),
    );
  });

  it('retries, not refuses, when the registry met a transaction conflict', async () => {
    store(...offices());
    ddb
      .on(TransactWriteCommand)
      .callsFakeOnce(async (input) => {
        throw cancellation(input, [{ key: registryKey('c1'), code: 'TransactionConflict' }]);
      })
      .resolves({});

    await createExtension(ctx, admin, 'c1', reception);

    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('answers 409 customer_terminated when the check finds the customer terminated meanwhile, before the number’s refusal', async () => {
    store(...offices());
    cancelEvery(
      { key: customerKey('c1'), was: customerItem(customer('c1', terminated)) },
      { key: registryKey('c1'), was: registryHolding('c1', '101') },
    );

    await expect(createExtension(ctx, admin, 'c1', reception)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts, and lets other errors through', async () => {
    store(...offices());
    cancelEvery({ key: customerKey('c1'), was: customerItem(branchOf('c1', 'hq')) });

    await expect(createExtension(ctx, admin, 'c1', reception)).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 5);

    ddb.resetHistory();
    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);
    await expect(createExtension(ctx, admin, 'c1', reception)).rejects.toBe(throttled);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});

describe('createHuntGroup', () => {
  const sales = (members: string[], strategy: HuntGroup['strategy'] = 'simultaneous') => ({
    number: '300',
    name: 'Sales',
    strategy,
    members,
  });
  const counted = (owner: string, number: string, by: number) => ({
    update: extensionKey(owner, number),
    values: expect.arrayContaining([by]),
    conditioned: true,
  });

  it('looks the members up among the standalone customer’s extensions in one batch read, then writes the group and counts each member', async () => {
    store(...offices(), extensionItem('c1', '101'), extensionItem('c1', '102'));

    await expect(
      createHuntGroup(ctx, resellerR1, 'c1', sales(['102', '101'], 'sequential')),
    ).resolves.toStrictEqual({
      number: '300',
      name: 'Sales',
      strategy: 'sequential',
      members: ['102', '101'],
      inheritedFrom: null,
    });

    expect(ddb.calls()).toHaveLength(3);
    expect(gets()).toEqual([customerKey('c1')]);
    expect(batchGets()).toEqual([[extensionKey('c1', '102'), extensionKey('c1', '101')]]);
    const [written] = transactions();
    expect(written).toHaveLength(5);
    expect(written).toEqual(
      expect.arrayContaining([
        { check: customerKey('c1'), values: expect.arrayContaining(['active', 'c1']) },
        expect.objectContaining({ update: registryKey('c1'), conditioned: true }),
        {
          put: {
            ...huntGroupKey('c1', '300'),
            entityType: 'huntGroup',
            number: '300',
            name: 'Sales',
            ownerId: 'c1',
            strategy: 'sequential',
            members: [
              { number: '102', ownerId: 'c1' },
              { number: '101', ownerId: 'c1' },
            ],
          },
          conditioned: true,
        },
        counted('c1', '102', 1),
        counted('c1', '101', 1),
      ]),
    );
  });

  it('lets a branch use its own and its main office’s extensions, counting each at its owner and the inherited ones in its registry', async () => {
    store(...offices(), extensionItem('hq', '101'), extensionItem('b1', '201'));

    await expect(
      createHuntGroup(ctx, admin, 'b1', sales(['101', '201'], 'least_used')),
    ).resolves.toStrictEqual({
      number: '300',
      name: 'Sales',
      strategy: 'least_used',
      members: ['101', '201'],
      inheritedFrom: null,
    });

    expect(batchGets()).toHaveLength(1);
    expect(batchGets()[0]).toHaveLength(4);
    expect(batchGets()[0]).toEqual(
      expect.arrayContaining([
        extensionKey('b1', '101'),
        extensionKey('b1', '201'),
        extensionKey('hq', '101'),
        extensionKey('hq', '201'),
      ]),
    );
    expect(writesTo(huntGroupKey('b1', '300'))).toEqual([
      {
        put: expect.objectContaining({
          members: [
            { number: '101', ownerId: 'hq' },
            { number: '201', ownerId: 'b1' },
          ],
        }),
        conditioned: true,
      },
    ]);
    expect(writesTo(extensionKey('hq', '101'))).toEqual([counted('hq', '101', 1)]);
    expect(writesTo(extensionKey('b1', '201'))).toEqual([counted('b1', '201', 1)]);
    // One of the branch's members is its main office's: its registry counts it.
    expect(writesTo(registryKey('b1'))).toEqual([
      {
        update: registryKey('b1'),
        values: expect.arrayContaining([1, new Set(['300'])]),
        conditioned: false,
      },
    ]);
    expect(writesTo(registryKey('hq'))).toEqual([expect.objectContaining({ conditioned: true })]);
  });

  it('answers 422 unknown_member naming each member the branch cannot see, writing nothing', async () => {
    store(
      ...offices(),
      extensionItem('hq', '101'),
      // A sibling branch's and another customer's extensions are not visible.
      extensionItem('b2', '777'),
      extensionItem('c1', '555'),
    );

    await expect(
      createHuntGroup(ctx, admin, 'b1', sales(['777', '101', '555', '400'])),
    ).rejects.toMatchObject({
      status: 422,
      code: 'unknown_member',
      errors: [
        { path: 'body.members.777' },
        { path: 'body.members.555' },
        { path: 'body.members.400' },
      ],
    });
    // A hunt group is not an extension: only extension keys are looked up.
    expect(batchGets()[0]?.every((key) => String(key.sk).startsWith('EXTENSION#'))).toBe(true);
    expect(writes()).toBe(0);
  });

  it('answers 422 unknown_member for a standalone customer naming a main office’s extension', async () => {
    store(...offices(), extensionItem('hq', '101'), extensionItem('c1', '102'));

    await expect(createHuntGroup(ctx, admin, 'c1', sales(['102', '101']))).rejects.toMatchObject({
      status: 422,
      code: 'unknown_member',
      errors: [{ path: 'body.members.101' }],
    });
    expect(batchGets()).toEqual([[extensionKey('c1', '102'), extensionKey('c1', '101')]]);
    expect(writes()).toBe(0);
  });

  it('answers 404 out of scope and 409 for a terminated customer, before looking members up', async () => {
    store(...offices(), customerItem(customer('c2', terminated)), extensionItem('c1', '101'));

    await expect(
      createHuntGroup(ctx, { role: 'reseller', resellerId: 'r2' }, 'c1', sales(['101'])),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(createHuntGroup(ctx, admin, 'c2', sales(['101']))).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 0);
    expect(writes()).toBe(0);
  });

  it('answers 409 number_conflict when the group’s registry refuses the hunt group’s number', async () => {
    store(...offices(), extensionItem('hq', '101'));
    cancelEvery({ key: registryKey('hq'), was: registryHolding('hq', '300') });

    await expect(createHuntGroup(ctx, admin, 'b1', sales(['101']))).rejects.toMatchObject({
      status: 409,
      code: 'number_conflict',
      errors: [{ path: 'numbers.300' }],
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('looks the members up again when a member vanished meanwhile, then answers 422', async () => {
    store(...offices(), extensionItem('c1', '101'));
    ddb.on(TransactWriteCommand).callsFakeOnce(async (input) => {
      unstore(extensionKey('c1', '101'));
      throw cancellation(input, [{ key: extensionKey('c1', '101') }]);
    });

    await expect(createHuntGroup(ctx, admin, 'c1', sales(['101']))).rejects.toMatchObject({
      status: 422,
      code: 'unknown_member',
      errors: [{ path: 'body.members.101' }],
    });
    expect(batchGets()).toHaveLength(2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts', async () => {
    store(...offices(), extensionItem('c1', '101'));
    cancelEvery({ key: extensionKey('c1', '101'), code: 'TransactionConflict' });

    await expect(createHuntGroup(ctx, admin, 'c1', sales(['101']))).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 5);
  });
});
