import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import { createAccount, listAccounts } from '../../../../../lib/domain/phone-lines/accounts.js';
import { customer } from '../../../../fixtures/customer-records.js';
import {
  admin,
  unitContext as ctx,
  now,
  resellerR1,
} from '../../../../fixtures/service-context.js';
import {
  accountLine,
  accountNumber,
  cancelEvery,
  cancelInTurn,
  customerKey,
  ddb,
  entryFor,
  gets,
  itemAt,
  lineCounted,
  lineCountKey,
  lineKey,
  linePut,
  ownerQueried,
  store,
  terminated,
  transactionByItem,
} from './support.js';

/** The account line as registered for customer c1. */
const registered = (resellerId: string | null) => ({
  ...lineKey(accountNumber),
  entityType: 'phoneLine',
  ownerPk: 'ACCOUNTS#c1',
  number: accountNumber,
  kind: 'account',
  customerId: 'c1',
  resellerId,
  accountNumber,
  customerStatus: 'active',
  createdAt: now,
  version: 1,
});

const ofReseller = (resellerId: string | null) => customer('c1', { resellerId });

describe('createAccount', () => {
  it('registers a reseller’s account in one transaction, without reading: the customer checked, the line put, the line counted', async () => {
    await expect(createAccount(ctx, resellerR1, 'c1', accountNumber)).resolves.toStrictEqual({
      number: accountNumber,
      customerId: 'c1',
      createdAt: now,
    });

    expect(ddb.calls()).toHaveLength(1);
    expect(transactionByItem()).toEqual({
      [itemAt(customerKey('c1'))]: {
        check: customerKey('c1'),
        values: expect.arrayContaining(['r1', 'active']),
      },
      [itemAt(lineKey(accountNumber))]: { put: registered('r1'), conditioned: true },
      [itemAt(lineCountKey('c1'))]: lineCounted('c1'),
    });
  });

  it('registers an admin’s account of a customer without reseller in one transaction, copying a null resellerId', async () => {
    await createAccount(ctx, admin, 'c1', accountNumber);

    expect(ddb.calls()).toHaveLength(1);
    expect(linePut()).toEqual(registered(null));
    expect(entryFor(customerKey('c1'))).toEqual({
      check: customerKey('c1'),
      values: expect.arrayContaining([null, 'active']),
    });
  });

  it('registers an admin’s account of a reseller’s customer with that reseller, taken from the failed check: two transactions', async () => {
    cancelInTurn([{ key: customerKey('c1'), was: customerItem(ofReseller('r7')) }]);

    await expect(createAccount(ctx, admin, 'c1', accountNumber)).resolves.toMatchObject({
      number: accountNumber,
    });

    expect(gets()).toEqual([]);
    expect(ddb.calls()).toHaveLength(2);
    expect([linePut(0), linePut(1)]).toEqual([registered(null), registered('r7')]);
    expect(entryFor(customerKey('c1'), 1)).toEqual({
      check: customerKey('c1'),
      values: expect.arrayContaining(['r7']),
    });
  });

  it('starts over when the customer’s reseller differs again on the second transaction', async () => {
    cancelInTurn(
      [{ key: customerKey('c1'), was: customerItem(ofReseller('r7')) }],
      [{ key: customerKey('c1'), was: customerItem(ofReseller('r8')) }],
      [{ key: customerKey('c1'), was: customerItem(ofReseller('r8')) }],
    );

    await createAccount(ctx, admin, 'c1', accountNumber);

    expect([0, 1, 2, 3].map((index) => linePut(index)?.resellerId)).toEqual([
      null,
      'r7',
      null,
      'r8',
    ]);
  });

  it.each([
    ['an absent customer', admin, undefined],
    ['a customer of another reseller', resellerR1, customerItem(ofReseller('r2'))],
    [
      'another customer',
      { role: 'customer', customerId: 'c2' } as Caller,
      customerItem(ofReseller('r1')),
    ],
  ])('answers 404 for %s after the one cancelled transaction', async (_label, caller, was) => {
    cancelEvery({ key: customerKey('c1'), was });

    await expect(createAccount(ctx, caller, 'c1', accountNumber)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers 409 customer_terminated for a terminated customer, before number_taken', async () => {
    cancelEvery(
      { key: customerKey('c1'), was: customerItem(customer('c1', terminated)) },
      { key: lineKey(accountNumber), was: accountLine(accountNumber, { customerId: 'c9' }) },
    );

    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers 409 number_taken when the number is already a line, without retrying', async () => {
    cancelEvery({
      key: lineKey(accountNumber),
      was: accountLine(accountNumber, { customerId: 'c9' }),
    });

    await expect(createAccount(ctx, resellerR1, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'number_taken',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('retries when the check failed although the customer as it was passes it (it changed in between)', async () => {
    cancelInTurn([{ key: customerKey('c1'), was: customerItem(ofReseller('r1')) }]);

    await createAccount(ctx, resellerR1, 'c1', accountNumber);

    expect([linePut(0), linePut(1)]).toEqual([registered('r1'), registered('r1')]);
  });

  it('answers 409 concurrent_update after five conflicts, and lets other errors through', async () => {
    cancelEvery({ key: lineCountKey('c1'), code: 'TransactionConflict' });
    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);

    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);
    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toBe(throttled);
  });
});

describe('listAccounts', () => {
  const second = '+4930100005';

  it('answers a page of the customer’s accounts, reading the customer beside the query', async () => {
    store(customerItem(ofReseller('r1')));
    ddb.on(QueryCommand).resolves({
      Items: [accountLine(accountNumber), accountLine(second, { version: undefined })],
    });

    await expect(listAccounts(ctx, resellerR1, 'c1', { limit: 25 })).resolves.toStrictEqual({
      items: [
        { number: accountNumber, customerId: 'c1', createdAt: '2026-11-02T00:00:00.000Z' },
        { number: second, customerId: 'c1', createdAt: '2026-11-02T00:00:00.000Z' },
      ],
      nextCursor: null,
    });
    expect(gets()).toEqual([customerKey('c1')]);
    const [query] = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(query).toMatchObject({ IndexName: 'linesByOwner', Limit: 26 });
    expect(ownerQueried(query)).toBe('ACCOUNTS#c1');
  });

  it('answers a cursor when there is one more account than the page', async () => {
    store(customerItem(ofReseller('r1')));
    ddb.on(QueryCommand).resolves({ Items: [accountLine(accountNumber), accountLine(second)] });

    const page = await listAccounts(ctx, admin, 'c1', { limit: 1 });

    expect(page.items.map((item) => item.number)).toEqual([accountNumber]);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it.each([
    ['an absent customer', admin, undefined],
    ['a customer of another reseller', resellerR1, customerItem(ofReseller('r2'))],
  ])('answers 404 for %s', async (_label, caller, item) => {
    if (item) store(item);
    ddb.on(QueryCommand).resolves({ Items: [accountLine(accountNumber)] });

    await expect(listAccounts(ctx, caller, 'c1', { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});
