import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type CustomerRecord, customerItem } from '../../../../lib/data/customer-records.js';
import {
  authorize,
  createAccount,
  createAlias,
  denyLinesOfTerminatedCustomer,
  patchAlias,
  route,
} from '../../../../lib/domain/phone-lines.js';
import type { Caller } from '../../../../lib/http/caller.js';
import type { SystemConfig } from '../../../../lib/schemas/phone-lines.js';
import { type CustomerShape, customer } from '../../../fixtures/customer-records.js';
import {
  admin,
  now,
  resellerR1,
  tableName,
  unitContext,
} from '../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const ctx = unitContext;

type Policy = 'system' | 'enabled' | 'disabled';

const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const lineKey = (number: string) => ({ pk: `PHONE#${number}`, sk: 'LINE' });
const lineCountKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'LINE_COUNT' });

const accountNumber = '+4930100000';
const aliasNumber = '+4930100001';
const unknownNumber = '+4930999999';

interface LineShape {
  readonly customerId?: string;
  readonly resellerId?: string | null;
  readonly customerStatus?: 'active' | 'terminated';
}

/** An account's registry item as stored: customer c1 of reseller r1, active, unless told. */
const accountLine = (number: string, shape: LineShape = {}) => {
  const { customerId = 'c1', resellerId = 'r1', customerStatus = 'active' } = shape;
  return {
    ...lineKey(number),
    entityType: 'phoneLine',
    ownerPk: `ACCOUNTS#${customerId}`,
    number,
    kind: 'account',
    customerId,
    resellerId,
    accountNumber: number,
    customerStatus,
    createdAt: '2026-11-02T00:00:00.000Z',
  };
};

/** An alias's registry item as stored, of `account`: customer c1 of reseller r1, active, unless told. */
const aliasLine = (
  number: string,
  account: string,
  authentication: Policy | undefined,
  shape: LineShape = {},
) => {
  const { customerId = 'c1', resellerId = 'r1', customerStatus = 'active' } = shape;
  return {
    ...lineKey(number),
    entityType: 'phoneLine',
    ownerPk: `ALIASES#${account}`,
    number,
    kind: 'alias',
    customerId,
    resellerId,
    accountNumber: account,
    ...(authentication ? { authentication } : {}),
    customerStatus,
    createdAt: '2026-11-03T00:00:00.000Z',
  };
};

/** A system configuration handed in by the caller: no DynamoDB read. */
const systemSays =
  (aliasAuthentication: SystemConfig['aliasAuthentication']) => (): SystemConfig => ({
    aliasAuthentication,
  });

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/**
 * A fake table behind GetItem, keyed by pk and sk, and the linesByOwner index over it:
 * items with an ownerPk, sorted by number, paged by Limit and ExclusiveStartKey. Numbers
 * in `lagging` are in the table but not in the index yet.
 */
let table: Map<string, Record<string, unknown>>;
let lagging: Set<string>;

const slot = (key: Record<string, unknown> | undefined) => `${String(key?.pk)}|${String(key?.sk)}`;
function store(...items: Record<string, unknown>[]) {
  for (const item of items) table.set(slot(item), item);
}
const storeCustomer = (id: string, shape: CustomerShape = {}) =>
  store(customerItem(customer(id, shape)));

function queryIndex(input: QueryCommandInput) {
  const owner = input.ExpressionAttributeValues?.[':owner'];
  const rows = [...table.values()]
    .filter((item) => item.ownerPk === owner && !lagging.has(String(item.number)))
    // DynamoDB orders string sort keys by their bytes.
    .sort((a, b) => (String(a.number) < String(b.number) ? -1 : 1));
  const after = input.ExclusiveStartKey?.number;
  const from = after === undefined ? rows : rows.filter((item) => String(item.number) > after);
  const limit = input.Limit ?? from.length;
  const items = from.slice(0, limit);
  const last = items.at(-1);
  return {
    Items: items,
    LastEvaluatedKey:
      from.length > limit && last
        ? { pk: last.pk, sk: last.sk, ownerPk: last.ownerPk, number: last.number }
        : undefined,
  };
}

beforeEach(() => {
  ddb.reset();
  table = new Map();
  lagging = new Set();
  ddb
    .on(GetCommand)
    .callsFake(async (input: GetCommandInput) => ({ Item: table.get(slot(input.Key)) }));
  ddb.on(QueryCommand).callsFake(async (input: QueryCommandInput) => queryIndex(input));
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
});

const writes = () =>
  ddb.commandCalls(PutCommand).length +
  ddb.commandCalls(UpdateCommand).length +
  ddb.commandCalls(TransactWriteCommand).length;
const gets = () => ddb.commandCalls(GetCommand).map((call) => call.args[0].input);
const transactions = () =>
  ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems);

describe('authorize', () => {
  it('reads only the number’s registry item, consistently, once per call, when the configuration comes from elsewhere', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'system'));

    await authorize(ctx, aliasNumber, systemSays('enabled'));
    await authorize(ctx, aliasNumber, systemSays('disabled'));

    expect(ddb.calls()).toHaveLength(2);
    expect(gets()).toEqual([
      { TableName: tableName, Key: lineKey(aliasNumber), ConsistentRead: true },
      { TableName: tableName, Key: lineKey(aliasNumber), ConsistentRead: true },
    ]);
  });

  it('answers an unknown username as unknown, charging nobody', async () => {
    await expect(authorize(ctx, unknownNumber, systemSays('enabled'))).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: null,
      reason: 'unknown_username',
    });
    expect(ddb.calls()).toHaveLength(1);
  });

  it.each([
    'alice',
    '4930100000',
    '+0301000000',
    '+4930123',
    '+1234567890123456',
    '+4930100000 ',
    '+49 30 100000',
  ])('answers the non-E.164 username %j as unknown without reading', async (username) => {
    store(accountLine(accountNumber));

    await expect(authorize(ctx, username, systemSays('enabled'))).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: null,
      reason: 'unknown_username',
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each(['enabled', 'disabled'] as const)(
    'allows an account, charging itself, whatever the system says (%s)',
    async (system) => {
      store(accountLine(accountNumber));

      await expect(authorize(ctx, accountNumber, systemSays(system))).resolves.toStrictEqual({
        allowed: true,
        aliasOf: null,
        chargedAccountNumber: accountNumber,
      });
    },
  );

  it.each([
    ['enabled', 'enabled'],
    ['enabled', 'disabled'],
    ['system', 'enabled'],
    [undefined, 'enabled'],
  ] as const)(
    'allows an alias that may register (%s, system %s), charging its account',
    async (authentication, system) => {
      store(aliasLine(aliasNumber, accountNumber, authentication));

      await expect(authorize(ctx, aliasNumber, systemSays(system))).resolves.toStrictEqual({
        allowed: true,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
      });
    },
  );

  it.each([
    ['disabled', 'enabled'],
    ['disabled', 'disabled'],
    ['system', 'disabled'],
    [undefined, 'disabled'],
  ] as const)(
    'refuses an alias that may not register (%s, system %s) as alias_registration_disabled',
    async (authentication, system) => {
      store(aliasLine(aliasNumber, accountNumber, authentication));

      await expect(authorize(ctx, aliasNumber, systemSays(system))).resolves.toStrictEqual({
        allowed: false,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
        reason: 'alias_registration_disabled',
      });
    },
  );

  it('refuses an account of a terminated customer as customer_terminated', async () => {
    store(accountLine(accountNumber, { customerStatus: 'terminated' }));

    await expect(authorize(ctx, accountNumber, systemSays('enabled'))).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: accountNumber,
      reason: 'customer_terminated',
    });
  });

  it.each(['enabled', 'disabled', 'system'] as const)(
    'refuses an alias (%s) of a terminated customer as customer_terminated',
    async (authentication) => {
      store(
        aliasLine(aliasNumber, accountNumber, authentication, { customerStatus: 'terminated' }),
      );

      await expect(authorize(ctx, aliasNumber, systemSays('enabled'))).resolves.toStrictEqual({
        allowed: false,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
        reason: 'customer_terminated',
      });
    },
  );

  it('reads the system configuration itself at most once per cache period when given none', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'system'), {
      pk: 'SYSTEM',
      sk: 'CONFIG',
      entityType: 'systemConfig',
      aliasAuthentication: 'disabled',
    });

    const answers = await Promise.all([authorize(ctx, aliasNumber), authorize(ctx, aliasNumber)]);
    await authorize(ctx, aliasNumber);

    expect(answers.map((answer) => answer.reason)).toEqual([
      'alias_registration_disabled',
      'alias_registration_disabled',
    ]);
    const configReads = gets().filter((input) => input.Key?.pk === 'SYSTEM');
    expect(configReads).toEqual([
      { TableName: tableName, Key: { pk: 'SYSTEM', sk: 'CONFIG' }, ConsistentRead: true },
    ]);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 4);
  });
});

describe('route', () => {
  it('rings an account itself, not via an alias, after one consistent read', async () => {
    store(accountLine(accountNumber));

    await expect(route(ctx, accountNumber, systemSays('disabled'))).resolves.toStrictEqual({
      number: accountNumber,
      ringAccountNumber: accountNumber,
      viaAlias: false,
    });
    expect(ddb.calls()).toHaveLength(1);
    expect(gets()).toEqual([
      { TableName: tableName, Key: lineKey(accountNumber), ConsistentRead: true },
    ]);
  });

  it.each([
    ['disabled', 'enabled'],
    ['system', 'disabled'],
  ] as const)('rings the account for a %s alias (system %s)', async (authentication, system) => {
    store(aliasLine(aliasNumber, accountNumber, authentication));

    await expect(route(ctx, aliasNumber, systemSays(system))).resolves.toStrictEqual({
      number: aliasNumber,
      ringAccountNumber: accountNumber,
      viaAlias: true,
    });
  });

  it.each([
    ['enabled', 'disabled'],
    ['system', 'enabled'],
  ] as const)('rings a %s alias itself (system %s)', async (authentication, system) => {
    store(aliasLine(aliasNumber, accountNumber, authentication));

    await expect(route(ctx, aliasNumber, systemSays(system))).resolves.toStrictEqual({
      number: aliasNumber,
      ringAccountNumber: aliasNumber,
      viaAlias: true,
    });
  });

  it('answers 404 not_found for a number that is neither', async () => {
    await expect(route(ctx, unknownNumber, systemSays('enabled'))).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('answers 409 customer_terminated for an account or alias of a terminated customer', async () => {
    store(
      accountLine(accountNumber, { customerStatus: 'terminated' }),
      aliasLine(aliasNumber, accountNumber, 'enabled', { customerStatus: 'terminated' }),
    );

    for (const number of [accountNumber, aliasNumber]) {
      await expect(route(ctx, number, systemSays('enabled'))).rejects.toMatchObject({
        status: 409,
        code: 'customer_terminated',
      });
    }
  });
});

/** The line counter's increment every registration carries. */
const countLine = (customerId: string) => ({
  Update: {
    TableName: tableName,
    Key: lineCountKey(customerId),
    UpdateExpression: 'ADD lineCount :one',
    ExpressionAttributeValues: { ':one': 1 },
  },
});

const terminatedShape: CustomerShape = {
  status: 'terminated',
  terminatedAt: '2026-11-20T00:00:00.000Z',
  terminatedBy: { reason: 'requested' },
};

describe('createAccount', () => {
  const registration = (number: string, customerId: string, resellerId: string | null) => [
    {
      Put: {
        TableName: tableName,
        Item: {
          ...lineKey(number),
          entityType: 'phoneLine',
          ownerPk: `ACCOUNTS#${customerId}`,
          number,
          kind: 'account',
          customerId,
          resellerId,
          accountNumber: number,
          customerStatus: 'active',
          createdAt: now,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      ConditionCheck: {
        TableName: tableName,
        Key: customerKey(customerId),
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active' },
      },
    },
    countLine(customerId),
  ];

  it('reads the customer, then registers the number, checks the customer and counts the line in one transaction', async () => {
    storeCustomer('c1');

    await expect(createAccount(ctx, resellerR1, 'c1', accountNumber)).resolves.toStrictEqual({
      number: accountNumber,
      customerId: 'c1',
      createdAt: now,
    });

    expect(ddb.calls()).toHaveLength(2);
    expect(gets()).toEqual([
      { TableName: tableName, Key: customerKey('c1'), ConsistentRead: true },
    ]);
    expect(transactions()).toEqual([registration(accountNumber, 'c1', 'r1')]);
  });

  it('registers the account of a customer without a reseller with a null resellerId', async () => {
    storeCustomer('c1', { resellerId: null });

    await createAccount(ctx, admin, 'c1', accountNumber);

    expect(transactions()).toEqual([registration(accountNumber, 'c1', null)]);
  });

  it.each([
    ['an absent customer', admin, undefined],
    ['a customer of another reseller', resellerR1, { resellerId: 'r2' }],
    ['another customer', { role: 'customer', customerId: 'c2' } as Caller, {}],
  ])('answers 404 for %s without writing', async (_label, caller, shape) => {
    if (shape) storeCustomer('c1', shape);

    await expect(createAccount(ctx, caller, 'c1', accountNumber)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(writes()).toBe(0);
  });

  it('answers 409 customer_terminated for a terminated customer without writing', async () => {
    storeCustomer('c1', terminatedShape);

    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(writes()).toBe(0);
  });

  it.each([
    [['ConditionalCheckFailed', 'None', 'None']],
    [['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None']],
  ])(
    'answers 409 number_taken when the registry put fails (%j), without retrying',
    async (codes) => {
      storeCustomer('c1');
      ddb.on(TransactWriteCommand).rejects(cancelled(...codes));

      await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
        status: 409,
        code: 'number_taken',
      });
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    },
  );

  it('retries with a fresh read when only the customer’s condition failed', async () => {
    storeCustomer('c1');
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'ConditionalCheckFailed', 'None'))
      .resolves({});

    await expect(createAccount(ctx, admin, 'c1', accountNumber)).resolves.toMatchObject({
      number: accountNumber,
    });
    expect(gets()).toEqual([
      { TableName: tableName, Key: customerKey('c1'), ConsistentRead: true },
      { TableName: tableName, Key: customerKey('c1'), ConsistentRead: true },
    ]);
    expect(transactions()).toEqual([
      registration(accountNumber, 'c1', 'r1'),
      registration(accountNumber, 'c1', 'r1'),
    ]);
  });

  it('answers 409 customer_terminated when the fresh read after a failed condition shows the customer terminated', async () => {
    storeCustomer('c1');
    ddb.on(TransactWriteCommand).callsFakeOnce(async () => {
      storeCustomer('c1', terminatedShape);
      throw cancelled('None', 'ConditionalCheckFailed', 'None');
    });

    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts, and lets other errors through', async () => {
    // No pause between attempts.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    storeCustomer('c1');
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict', 'None'));
    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);

    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);
    await expect(createAccount(ctx, admin, 'c1', accountNumber)).rejects.toBe(throttled);
    random.mockRestore();
  });
});

describe('createAlias', () => {
  const newAlias = '+4930100002';

  const registration = (
    number: string,
    authentication: Policy,
    defaultRead: Policy,
    customerId = 'c1',
  ) => [
    {
      Put: {
        TableName: tableName,
        Item: {
          ...lineKey(number),
          entityType: 'phoneLine',
          ownerPk: `ALIASES#${accountNumber}`,
          number,
          kind: 'alias',
          customerId,
          resellerId: 'r1',
          accountNumber,
          authentication,
          customerStatus: 'active',
          createdAt: now,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      ConditionCheck: {
        TableName: tableName,
        Key: customerKey(customerId),
        ConditionExpression: '#status = :active AND #info.#default = :default',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#info': 'additionalInfo',
          '#default': 'aliasAuthDefault',
        },
        ExpressionAttributeValues: { ':active': 'active', ':default': defaultRead },
      },
    },
    countLine(customerId),
    {
      ConditionCheck: {
        TableName: tableName,
        Key: lineKey(accountNumber),
        ConditionExpression: '#kind = :account',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: { ':account': 'account' },
      },
    },
  ];

  beforeEach(() => {
    store(accountLine(accountNumber));
  });

  it('gives the alias the customer’s aliasAuthDefault, conditioned on that default still being the one read', async () => {
    storeCustomer('c1', { aliasAuthDefault: 'disabled' });

    await expect(
      createAlias(ctx, resellerR1, accountNumber, { number: newAlias }, systemSays('enabled')),
    ).resolves.toStrictEqual({
      number: newAlias,
      accountNumber,
      customerId: 'c1',
      authentication: 'disabled',
      effective: { canRegister: false, source: 'alias' },
    });

    expect(gets()).toEqual([
      { TableName: tableName, Key: lineKey(accountNumber), ConsistentRead: true },
      { TableName: tableName, Key: customerKey('c1'), ConsistentRead: true },
    ]);
    expect(transactions()).toEqual([registration(newAlias, 'disabled', 'disabled')]);
    expect(ddb.calls()).toHaveLength(3);
  });

  it('takes a system default as system, its effect resolved against the system configuration', async () => {
    storeCustomer('c1', { aliasAuthDefault: 'system' });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }, systemSays('disabled')),
    ).resolves.toMatchObject({
      authentication: 'system',
      effective: { canRegister: false, source: 'system' },
    });
    expect(transactions()).toEqual([registration(newAlias, 'system', 'system')]);
  });

  it('lets an explicit authentication win over the default, still conditioned on the default read', async () => {
    storeCustomer('c1', { aliasAuthDefault: 'disabled' });

    await expect(
      createAlias(
        ctx,
        admin,
        accountNumber,
        { number: newAlias, authentication: 'enabled' },
        systemSays('disabled'),
      ),
    ).resolves.toMatchObject({
      authentication: 'enabled',
      effective: { canRegister: true, source: 'alias' },
    });
    expect(transactions()).toEqual([registration(newAlias, 'enabled', 'disabled')]);
  });

  it('retries with the default read again when the default changed before the write', async () => {
    storeCustomer('c1', { aliasAuthDefault: 'disabled' });
    ddb.on(TransactWriteCommand).callsFakeOnce(async () => {
      storeCustomer('c1', { aliasAuthDefault: 'enabled', version: 5 });
      throw cancelled('None', 'ConditionalCheckFailed', 'None', 'None');
    });

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }, systemSays('disabled')),
    ).resolves.toMatchObject({ authentication: 'enabled' });
    expect(transactions()).toEqual([
      registration(newAlias, 'disabled', 'disabled'),
      registration(newAlias, 'enabled', 'enabled'),
    ]);
  });

  it('answers 409 number_taken for the account’s own number without reading the customer or writing', async () => {
    storeCustomer('c1');

    await expect(
      createAlias(ctx, admin, accountNumber, { number: accountNumber }, systemSays('enabled')),
    ).rejects.toMatchObject({ status: 409, code: 'number_taken' });
    expect(ddb.calls()).toHaveLength(1);
    expect(writes()).toBe(0);
  });

  it('answers 409 number_taken when the alias number is already a line', async () => {
    storeCustomer('c1');
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled('ConditionalCheckFailed', 'None', 'None', 'None'));

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }, systemSays('enabled')),
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
  ])('answers 404 for %s after reading only the line', async (_label, caller, account) => {
    storeCustomer('c1');
    store(aliasLine(aliasNumber, accountNumber, 'enabled'));

    await expect(
      createAlias(ctx, caller, account, { number: newAlias }, systemSays('enabled')),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(gets()).toEqual([{ TableName: tableName, Key: lineKey(account), ConsistentRead: true }]);
    expect(writes()).toBe(0);
  });

  it('answers 409 customer_terminated for an account of a terminated customer without writing', async () => {
    storeCustomer('c1', terminatedShape);

    await expect(
      createAlias(ctx, admin, accountNumber, { number: newAlias }, systemSays('enabled')),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(writes()).toBe(0);
  });
});

describe('patchAlias', () => {
  const transaction = (customerId = 'c1') => [
    {
      Update: {
        TableName: tableName,
        Key: lineKey(aliasNumber),
        UpdateExpression: 'SET authentication = :authentication',
        ConditionExpression:
          '#kind = :alias AND customerStatus = :active AND customerId = :customerId',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: {
          ':authentication': 'disabled',
          ':alias': 'alias',
          ':active': 'active',
          ':customerId': customerId,
        },
      },
    },
    {
      ConditionCheck: {
        TableName: tableName,
        Key: customerKey(customerId),
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active' },
      },
    },
  ];

  /** Transactions that hold their conditions against the fake table. */
  const transactAgainstTable = () =>
    ddb.on(TransactWriteCommand).callsFake(async (input: TransactWriteCommandInput) => {
      const codes = (input.TransactItems ?? []).map(({ ConditionCheck: check, Update: update }) => {
        if (check)
          return table.get(slot(check.Key))?.status === 'active'
            ? 'None'
            : 'ConditionalCheckFailed';
        const old = table.get(slot(update?.Key));
        return old?.kind === 'alias' && old.customerStatus === 'active'
          ? 'None'
          : 'ConditionalCheckFailed';
      });
      if (codes.includes('ConditionalCheckFailed')) throw cancelled(...codes);
      for (const { Update: update } of input.TransactItems ?? []) {
        const old = update && table.get(slot(update.Key));
        if (old)
          store({ ...old, authentication: update?.ExpressionAttributeValues?.[':authentication'] });
      }
      return {};
    });

  it.each([
    ['an admin', admin],
    ['a reseller', resellerR1],
    ['a customer', { role: 'customer', customerId: 'c1' } as Caller],
  ])(
    'reads the line, then writes it in a transaction that checks the customer is active, for %s',
    async (_label, caller) => {
      storeCustomer('c1');
      store(aliasLine(aliasNumber, accountNumber, 'enabled'));
      transactAgainstTable();

      await expect(
        patchAlias(ctx, caller, aliasNumber, 'disabled', systemSays('enabled')),
      ).resolves.toStrictEqual({
        number: aliasNumber,
        accountNumber,
        customerId: 'c1',
        authentication: 'disabled',
        effective: { canRegister: false, source: 'alias' },
      });
      expect(gets()).toEqual([
        { TableName: tableName, Key: lineKey(aliasNumber), ConsistentRead: true },
      ]);
      expect(transactions()).toEqual([transaction()]);
      expect(table.get(slot(lineKey(aliasNumber)))?.authentication).toBe('disabled');
    },
  );

  it('answers a system alias with its effect from the system configuration', async () => {
    storeCustomer('c1');
    store(aliasLine(aliasNumber, accountNumber, 'enabled'));
    transactAgainstTable();

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'system', systemSays('disabled')),
    ).resolves.toMatchObject({
      authentication: 'system',
      effective: { canRegister: false, source: 'system' },
    });
  });

  it('answers 409 customer_terminated when the line is already marked, writing nothing', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'enabled', { customerStatus: 'terminated' }));

    await expect(
      patchAlias(ctx, resellerR1, aliasNumber, 'disabled', systemSays('enabled')),
    ).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(transactions()).toEqual([]);
  });

  it('answers 409 customer_terminated for an alias of a terminated customer whose lines are not marked yet', async () => {
    storeCustomer('c1', terminatedShape);
    store(aliasLine(aliasNumber, accountNumber, 'enabled'));
    transactAgainstTable();

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'disabled', systemSays('enabled')),
    ).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(table.get(slot(lineKey(aliasNumber)))?.authentication).toBe('enabled');
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
  ])('answers 404 for %s, writing nothing', async (_label, caller, line) => {
    if (line) store(line);

    await expect(
      patchAlias(ctx, caller, aliasNumber, 'disabled', systemSays('enabled')),
    ).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(transactions()).toEqual([]);
  });

  it('lets an error other than a conflict through', async () => {
    storeCustomer('c1');
    store(aliasLine(aliasNumber, accountNumber, 'enabled'));
    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);

    await expect(
      patchAlias(ctx, admin, aliasNumber, 'disabled', systemSays('enabled')),
    ).rejects.toBe(throttled);
  });
});

describe('denyLinesOfTerminatedCustomer', () => {
  const c1 = (): CustomerRecord => customer('c1', terminatedShape);
  const lineCount = (id: string, count: number) => ({ ...lineCountKey(id), lineCount: count });
  const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
  const marked = () =>
    ddb.commandCalls(UpdateCommand).map((call) => String(call.args[0].input.Key?.pk).slice(6));
  const query = (owner: string, ExclusiveStartKey?: Record<string, string>) => ({
    TableName: tableName,
    IndexName: 'linesByOwner',
    KeyConditionExpression: 'ownerPk = :owner',
    ExpressionAttributeValues: { ':owner': owner },
    Limit: 101,
    ExclusiveStartKey,
  });

  const firstAccount = '+4930200001';
  const secondAccount = '+4930200002';
  const aliasOf = (index: number) => `+49303${String(index).padStart(5, '0')}`;

  it.each([
    ['no line counter', []],
    ['a line counter of 0', [lineCount('c1', 0)]],
  ])('reads the line counter once and does nothing else with %s', async (_label, items) => {
    store(...items, accountLine(firstAccount));

    await denyLinesOfTerminatedCustomer(ctx, c1());

    expect(ddb.calls()).toHaveLength(1);
    expect(gets()).toEqual([
      { TableName: tableName, Key: lineCountKey('c1'), ConsistentRead: true },
    ]);
  });

  it('pages through the accounts, then each account’s aliases, marking every line terminated', async () => {
    const aliases = Array.from({ length: 150 }, (_, index) => aliasOf(index));
    store(
      lineCount('c1', 153),
      accountLine(firstAccount),
      accountLine(secondAccount),
      ...aliases.map((number) => aliasLine(number, firstAccount, 'system')),
      aliasLine('+4930400000', secondAccount, 'enabled'),
      // Another customer's lines stay as they are.
      accountLine('+4930500000', { customerId: 'c2' }),
      aliasLine('+4930500001', '+4930500000', 'enabled', { customerId: 'c2' }),
    );

    await denyLinesOfTerminatedCustomer(ctx, c1());

    const hundredth = aliasLine(aliases[99] ?? '', firstAccount, 'system');
    // Lines are marked 16 at a time: the two accounts' alias walks interleave.
    expect(queries()[0]).toEqual(query('ACCOUNTS#c1'));
    expect(queries()).toHaveLength(4);
    expect(queries()).toEqual(
      expect.arrayContaining([
        query('ACCOUNTS#c1'),
        query(`ALIASES#${firstAccount}`),
        query(`ALIASES#${firstAccount}`, {
          pk: hundredth.pk,
          sk: hundredth.sk,
          ownerPk: hundredth.ownerPk,
          number: hundredth.number,
        }),
        query(`ALIASES#${secondAccount}`),
      ]),
    );
    expect([...marked()].sort()).toEqual(
      [firstAccount, ...aliases, secondAccount, '+4930400000'].sort(),
    );
    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toContainEqual({
      TableName: tableName,
      Key: lineKey(firstAccount),
      UpdateExpression: 'SET customerStatus = :terminated',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':terminated': 'terminated' },
    });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
  });

  it('throws after marking what the index shows when it shows fewer lines than counted, and succeeds once it caught up', async () => {
    store(
      lineCount('c1', 3),
      accountLine(firstAccount),
      aliasLine(aliasOf(1), firstAccount, 'enabled'),
      aliasLine(aliasOf(2), firstAccount, 'enabled'),
    );
    lagging.add(aliasOf(2));

    await expect(denyLinesOfTerminatedCustomer(ctx, c1())).rejects.toThrow(
      'Customer c1: marked 2 of 3 lines; the index is catching up',
    );
    expect(marked()).toEqual([firstAccount, aliasOf(1)]);

    ddb.resetHistory();
    lagging.clear();
    await denyLinesOfTerminatedCustomer(ctx, c1());
    expect(marked()).toEqual([firstAccount, aliasOf(1), aliasOf(2)]);
  });

  it('lets a failed update through', async () => {
    store(lineCount('c1', 1), accountLine(firstAccount));
    const throttled = new Error('throttled');
    ddb.on(UpdateCommand).rejects(throttled);

    await expect(denyLinesOfTerminatedCustomer(ctx, c1())).rejects.toBe(throttled);
  });
});
