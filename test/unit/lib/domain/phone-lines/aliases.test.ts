import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import {
  createAlias,
  getAlias,
  listAliases,
  patchAlias,
} from '../../../../../lib/domain/phone-lines/aliases.js';
import { type CustomerShape, customer } from '../../../../fixtures/customer-records.js';
import {
  admin,
  unitContext as ctx,
  noIfMatch,
  now,
  resellerR1,
} from '../../../../fixtures/service-context.js';
import {
  accountLine,
  accountNumber,
  aliasLine,
  aliasNumber,
  cancelEvery,
  cancellation,
  configKey,
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
  storedConfig,
  terminated,
  transactionByItem,
  transactions,
  unknownNumber,
  writes,
} from './support.js';

const storeCustomer = (shape: CustomerShape = {}) => store(customerItem(customer('c1', shape)));
const selfC1: Caller = { role: 'customer', customerId: 'c1' };

/** The alias of c1's account as shown when its own policy is disabled. */
const disabledAlias = {
  number: aliasNumber,
  accountNumber,
  customerId: 'c1',
  authentication: 'disabled',
  effective: { canRegister: false, source: 'alias' },
};

describe('createAlias', () => {
  const newAlias = '+4930100002';

  const registered = (authentication: string) => ({
    ...lineKey(newAlias),
    entityType: 'phoneLine',
    ownerPk: `ALIASES#${accountNumber}`,
    number: newAlias,
    kind: 'alias',
    customerId: 'c1',
    resellerId: 'r1',
    accountNumber,
    authentication,
    customerStatus: 'active',
    createdAt: now,
    version: 1,
  });

  beforeEach(() => {
    store(accountLine(accountNumber));
  });

  it('reads the account and the system configuration, then the customer, then registers the alias with the customer’s default in one transaction', async () => {
    storeCustomer({ aliasAuthDefault: 'disabled' });

    await expect(
      createAlias(ctx, selfC1, accountNumber, { number: newAlias }),
    ).resolves.toStrictEqual({
      number: newAlias,
      accountNumber,
      customerId: 'c1',
      authentication: 'disabled',
      effective: { canRegister: false, source: 'alias' },
    });

    expect(gets()).toEqual([lineKey(accountNumber), configKey, customerKey('c1')]);
    expect(transactions()).toHaveLength(1);
    expect(transactionByItem()).toEqual({
      [itemAt(lineKey(accountNumber))]: {
        check: lineKey(accountNumber),
        values: expect.arrayContaining(['account']),
      },
      [itemAt(customerKey('c1'))]: {
        check: customerKey('c1'),
        values: expect.arrayContaining(['active', 'disabled']),
      },
      [itemAt(lineKey(newAlias))]: { put: registered('disabled'), conditioned: true },
      [itemAt(lineCountKey('c1'))]: lineCounted('c1'),
    });
    expect(ddb.calls()).toHaveLength(4);
  });

  it('takes a system default as system, its effect resolved against the stored system configuration', async () => {
    storeCustomer({ aliasAuthDefault: 'system' });
    store(storedConfig('disabled', 3));

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }),
    ).resolves.toMatchObject({
      authentication: 'system',
      effective: { canRegister: false, source: 'system' },
    });
    expect(linePut()).toEqual(registered('system'));
  });

  it('lets an explicit authentication win over the default, the check still holding the default read', async () => {
    storeCustomer({ aliasAuthDefault: 'disabled' });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias, authentication: 'enabled' }),
    ).resolves.toMatchObject({
      authentication: 'enabled',
      effective: { canRegister: true, source: 'alias' },
    });
    expect(entryFor(customerKey('c1'))).toEqual({
      check: customerKey('c1'),
      values: expect.arrayContaining(['disabled']),
    });
    expect(linePut()).toEqual(registered('enabled'));
  });

  it('reads everything again and takes the new default when the default changed before the write', async () => {
    storeCustomer({ aliasAuthDefault: 'disabled' });
    const changed = customerItem(customer('c1', { aliasAuthDefault: 'enabled', version: 5 }));
    ddb.on(TransactWriteCommand).callsFakeOnce(async (input) => {
      store(changed);
      throw cancellation(input, [{ key: customerKey('c1'), was: changed }]);
    });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }),
    ).resolves.toMatchObject({ authentication: 'enabled' });
    expect([linePut(0), linePut(1)]).toEqual([registered('disabled'), registered('enabled')]);
    expect(gets()).toHaveLength(6);
  });

  it('answers 409 number_taken for the account’s own number without reading the customer or writing', async () => {
    storeCustomer();

    await expect(
      createAlias(ctx, admin, accountNumber, { number: accountNumber }),
    ).rejects.toMatchObject({ status: 409, code: 'number_taken' });
    expect(gets()).toEqual([lineKey(accountNumber), configKey]);
    expect(writes()).toBe(0);
  });

  it('answers 409 number_taken when the alias number is already a line', async () => {
    storeCustomer();
    cancelEvery({ key: lineKey(newAlias), was: accountLine(newAlias, { customerId: 'c9' }) });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }),
    ).rejects.toMatchObject({ status: 409, code: 'number_taken' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it.each([
    ['an unknown account', admin, unknownNumber],
    ['an alias named as the account', admin, aliasNumber],
    [
      'an account of another reseller',
      { role: 'reseller', resellerId: 'r2' } as Caller,
      accountNumber,
    ],
    [
      'an account of another customer',
      { role: 'customer', customerId: 'c2' } as Caller,
      accountNumber,
    ],
  ])(
    'answers 404 for %s after reading only the line and the configuration',
    async (_label, caller, account) => {
      storeCustomer();
      store(aliasLine(aliasNumber, accountNumber, 'enabled'));

      await expect(createAlias(ctx, caller, account, { number: newAlias })).rejects.toMatchObject({
        status: 404,
        code: 'not_found',
      });
      expect(gets()).toEqual([lineKey(account), configKey]);
      expect(writes()).toBe(0);
    },
  );

  it('answers 409 customer_terminated for an account of a terminated customer without writing', async () => {
    storeCustomer(terminated);

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(writes()).toBe(0);
  });

  it('answers 409 customer_terminated when the customer was terminated between the read and the write', async () => {
    storeCustomer();
    cancelEvery({ key: customerKey('c1'), was: customerItem(customer('c1', terminated)) });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});

describe('getAlias', () => {
  it('answers the alias with its effective policy and its version as ETag', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'disabled', { version: 3 }));

    await expect(getAlias(ctx, resellerR1, aliasNumber)).resolves.toStrictEqual({
      alias: disabledAlias,
      etag: '"3"',
    });
    expect(gets()).toEqual([lineKey(aliasNumber), configKey]);
  });

  it('answers ETag "1" for an alias written before versions, and system for one without authentication', async () => {
    store(aliasLine(aliasNumber, accountNumber, undefined, { version: undefined }));

    await expect(getAlias(ctx, selfC1, aliasNumber)).resolves.toStrictEqual({
      alias: expect.objectContaining({
        authentication: 'system',
        effective: { canRegister: true, source: 'system' },
      }),
      etag: '"1"',
    });
  });

  it('resolves a system alias against the stored configuration, read fresh', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'system'), storedConfig('disabled', 2));

    const { alias } = await getAlias(ctx, admin, aliasNumber);

    expect(alias.effective).toEqual({ canRegister: false, source: 'system' });
  });

  it('shows a terminated customer’s alias as unable to register', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { customerStatus: 'terminated' }));

    const { alias } = await getAlias(ctx, admin, aliasNumber);

    expect(alias.effective).toEqual({ canRegister: false, source: 'alias' });
  });

  it.each([
    ['an absent number', admin, undefined],
    ['an account', admin, accountLine(aliasNumber)],
    [
      'an alias of another reseller',
      resellerR1,
      aliasLine(aliasNumber, accountNumber, 'enabled', { resellerId: 'r2' }),
    ],
    [
      'an alias of another customer',
      { role: 'customer', customerId: 'c2' } as Caller,
      aliasLine(aliasNumber, accountNumber, 'enabled'),
    ],
  ])('answers 404 for %s', async (_label, caller, line) => {
    if (line) store(line);

    await expect(getAlias(ctx, caller, aliasNumber)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});

describe('patchAlias', () => {
  const ifMatch = (header: string | undefined) => parseIfMatch(header);

  it.each([
    ['an admin', admin],
    ['a reseller', resellerR1],
  ])(
    'reads the line and the configuration, then in one transaction checks the customer and writes the line with the next version, for %s',
    async (_label, caller) => {
      store(aliasLine(aliasNumber, accountNumber, 'enabled', { version: 4 }));

      await expect(
        patchAlias(ctx, caller, aliasNumber, 'disabled', noIfMatch),
      ).resolves.toStrictEqual({
        alias: disabledAlias,
        etag: '"5"',
      });
      expect(gets()).toEqual([lineKey(aliasNumber), configKey]);
      expect(transactions()).toHaveLength(1);
      expect(transactionByItem()).toEqual({
        [itemAt(customerKey('c1'))]: {
          check: customerKey('c1'),
          values: expect.arrayContaining(['active']),
        },
        [itemAt(lineKey(aliasNumber))]: {
          update: lineKey(aliasNumber),
          values: expect.arrayContaining(['disabled', 'phoneLine', 4, 'c1']),
          conditioned: true,
        },
      });
    },
  );

  it('answers a system alias with its effect from the stored configuration', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled'), storedConfig('disabled'));

    await expect(patchAlias(ctx, admin, aliasNumber, 'system', noIfMatch)).resolves.toMatchObject({
      alias: { authentication: 'system', effective: { canRegister: false, source: 'system' } },
    });
  });

  it.each([
    ['its ETag', '"4"'],
    ['a list holding its ETag', '"2", W/"4"'],
    ['*', '*'],
  ])('writes when If-Match is %s', async (_label, header) => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { version: 4 }));

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'disabled', ifMatch(header)),
    ).resolves.toMatchObject({ etag: '"5"' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  /** A PATCH to disabled of an alias stored with `stored`: a change, or none. */
  const changeOrNot = [
    ['a change', 'enabled'],
    ['no change', 'disabled'],
  ] as const;

  it.each(changeOrNot)(
    'answers 412 precondition_failed for a stale If-Match, writing nothing, for %s',
    async (_label, stored) => {
      store(aliasLine(aliasNumber, accountNumber, stored, { version: 4 }));

      await expect(
        patchAlias(ctx, admin, aliasNumber, 'disabled', ifMatch('"3"')),
      ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
      expect(writes()).toBe(0);
    },
  );

  it.each(changeOrNot)(
    'answers 412 precondition_failed when another write moved the version past If-Match before the transaction, for %s',
    async (_label, stored) => {
      store(aliasLine(aliasNumber, accountNumber, stored, { version: 4 }));
      cancelEvery({
        key: lineKey(aliasNumber),
        was: aliasLine(aliasNumber, accountNumber, 'system', { version: 5 }),
      });

      await expect(
        patchAlias(ctx, admin, aliasNumber, 'disabled', ifMatch('"4"')),
      ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    },
  );

  it.each(changeOrNot)(
    'reads again and writes over the newer version when no If-Match was given, for %s',
    async (_label, stored) => {
      store(aliasLine(aliasNumber, accountNumber, stored, { version: 4 }));
      const moved = aliasLine(aliasNumber, accountNumber, 'system', { version: 5 });
      ddb.on(TransactWriteCommand).callsFakeOnce(async (input) => {
        store(moved);
        throw cancellation(input, [{ key: lineKey(aliasNumber), was: moved }]);
      });

      await expect(
        patchAlias(ctx, admin, aliasNumber, 'disabled', noIfMatch),
      ).resolves.toStrictEqual({ alias: disabledAlias, etag: '"6"' });
      expect(entryFor(lineKey(aliasNumber), 1)).toMatchObject({
        update: lineKey(aliasNumber),
        values: expect.arrayContaining(['disabled', 5]),
      });
    },
  );

  /** The transaction of a PATCH that changes nothing: it checks the customer and the line, and writes neither. */
  const onlyChecked = () => ({
    [itemAt(customerKey('c1'))]: {
      check: customerKey('c1'),
      values: expect.arrayContaining(['active']),
    },
    [itemAt(lineKey(aliasNumber))]: {
      check: lineKey(aliasNumber),
      values: expect.arrayContaining(['alias', 'c1', 'active']),
    },
  });

  it.each([
    ['its ETag', '"4"'],
    ['*', '*'],
    ['no If-Match', undefined],
  ])(
    'writes nothing for the policy the alias has, with %s: the answer is the alias as it is, its ETag kept',
    async (_label, header) => {
      store(aliasLine(aliasNumber, accountNumber, 'disabled', { version: 4 }));

      await expect(
        patchAlias(ctx, resellerR1, aliasNumber, 'disabled', ifMatch(header)),
      ).resolves.toStrictEqual({ alias: disabledAlias, etag: '"4"' });
      expect(transactions()).toHaveLength(1);
      expect(transactionByItem()).toEqual(onlyChecked());
    },
  );

  it('takes an alias stored without a policy as system: setting system writes nothing', async () => {
    store(aliasLine(aliasNumber, accountNumber, undefined, { version: undefined }));

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'system', ifMatch('"1"')),
    ).resolves.toMatchObject({ alias: { authentication: 'system' }, etag: '"1"' });
    expect(transactionByItem()).toEqual(onlyChecked());
  });

  it('writes an alias of before versions as version 1 when If-Match is "1", answering "2"', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { version: undefined }));

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'disabled', ifMatch('"1"')),
    ).resolves.toMatchObject({ etag: '"2"' });
  });

  it('answers 409 customer_terminated when the line is already marked, writing nothing', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { customerStatus: 'terminated' }));

    await expect(
      patchAlias(ctx, resellerR1, aliasNumber, 'disabled', noIfMatch),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(writes()).toBe(0);
  });

  it.each(changeOrNot)(
    'answers 409 customer_terminated for an alias of a terminated customer whose lines are not marked yet, for %s',
    async (_label, stored) => {
      store(aliasLine(aliasNumber, accountNumber, stored));
      cancelEvery({ key: customerKey('c1'), was: customerItem(customer('c1', terminated)) });

      await expect(
        patchAlias(ctx, admin, aliasNumber, 'disabled', noIfMatch),
      ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    },
  );

  it('answers 409 customer_terminated when the termination marked the line between the read and the write', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { version: 4 }));
    cancelEvery({
      key: lineKey(aliasNumber),
      was: aliasLine(aliasNumber, accountNumber, 'enabled', {
        version: 5,
        customerStatus: 'terminated',
      }),
    });

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'disabled', ifMatch('"4"')),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
  });

  it.each([
    ['an absent number', resellerR1, undefined],
    ['an account', resellerR1, accountLine(aliasNumber)],
    [
      'an alias of another reseller',
      resellerR1,
      aliasLine(aliasNumber, accountNumber, 'enabled', { resellerId: 'r2' }),
    ],
    [
      'a terminated alias of another reseller',
      resellerR1,
      aliasLine(aliasNumber, accountNumber, 'enabled', {
        resellerId: 'r2',
        customerStatus: 'terminated',
      }),
    ],
    [
      'an alias of another customer',
      { role: 'customer', customerId: 'c2' } as Caller,
      aliasLine(aliasNumber, accountNumber, 'enabled'),
    ],
  ])(
    'answers 404 for %s, writing nothing, whatever If-Match says',
    async (_label, caller, line) => {
      if (line) store(line);

      await expect(
        patchAlias(ctx, caller, aliasNumber, 'disabled', ifMatch('"99"')),
      ).rejects.toMatchObject({ status: 404, code: 'not_found' });
      expect(writes()).toBe(0);
    },
  );

  it('lets an error other than a conflict through', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled'));
    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);

    await expect(patchAlias(ctx, admin, aliasNumber, 'disabled', noIfMatch)).rejects.toBe(
      throttled,
    );
  });
});

describe('listAliases', () => {
  it('answers the account’s aliases with their effect, reading the account and the configuration beside the query', async () => {
    store(accountLine(accountNumber), storedConfig('disabled'));
    ddb.on(QueryCommand).resolves({
      Items: [
        aliasLine(aliasNumber, accountNumber, 'system'),
        aliasLine('+4930100002', accountNumber, 'enabled'),
      ],
    });

    await expect(listAliases(ctx, selfC1, accountNumber, { limit: 25 })).resolves.toStrictEqual({
      items: [
        {
          number: aliasNumber,
          accountNumber,
          customerId: 'c1',
          authentication: 'system',
          effective: { canRegister: false, source: 'system' },
        },
        {
          number: '+4930100002',
          accountNumber,
          customerId: 'c1',
          authentication: 'enabled',
          effective: { canRegister: true, source: 'alias' },
        },
      ],
      nextCursor: null,
    });
    expect(gets()).toEqual([lineKey(accountNumber), configKey]);
    const [query] = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(query?.IndexName).toBe('linesByOwner');
    expect(ownerQueried(query)).toBe(`ALIASES#${accountNumber}`);
  });

  it.each([
    ['an unknown account', admin, undefined],
    ['an alias', admin, aliasLine(accountNumber, '+4930100009', 'enabled')],
    [
      'an account of another reseller',
      { role: 'reseller', resellerId: 'r2' } as Caller,
      accountLine(accountNumber),
    ],
  ])('answers 404 for %s', async (_label, caller, line) => {
    if (line) store(line);
    ddb.on(QueryCommand).resolves({ Items: [] });

    await expect(listAliases(ctx, caller, accountNumber, { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});
