import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { customerItem } from '../../../../lib/data/customer-records.js';
import { pbxItemKey, pbxRegistryKey, pbxSortKey } from '../../../../lib/data/keys.js';
import {
  createExtension,
  createHuntGroup,
  deletePbxItem,
  listPbxItems,
  numberConflictsOnLink,
  numberMovesOnLink,
  type PbxRegistry,
} from '../../../../lib/domain/pbx.js';
import type { Caller } from '../../../../lib/http/caller.js';
import {
  branchOf,
  type CustomerShape,
  customer,
  mainOffice,
} from '../../../fixtures/customer-records.js';
import { admin, resellerR1, tableName, unitContext } from '../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const ctx = unitContext;

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const registryKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'PBX_NUMBERS' });
const extensionKey = (owner: string, number: string) => ({
  pk: `CUSTOMER#${owner}`,
  sk: `EXTENSION#${number.length}#${number}`,
});
const huntGroupKey = (owner: string, number: string) => ({
  pk: `CUSTOMER#${owner}`,
  sk: `HUNT_GROUP#${number.length}#${number}`,
});

const bump = 'SET revision = if_not_exists(revision, :zero) + :one';

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const terminatedShape: CustomerShape = {
  status: 'terminated',
  terminatedAt: '2026-11-20T00:00:00.000Z',
  terminatedBy: { reason: 'requested' },
};

/**
 * A fake table behind GetItem, BatchGetItem and Query (key conditions on pk with
 * begins_with or BETWEEN on sk, in byte order, paged by Limit).
 */
let table: Map<string, Record<string, unknown>>;

const slot = (key: Record<string, unknown> | undefined) => `${String(key?.pk)}|${String(key?.sk)}`;
function store(...items: Record<string, unknown>[]) {
  for (const item of items) table.set(slot(item), item);
}

/** Standalone c1 and c2, main office hq with branches b1 and b2, all of reseller r1. */
function storeOffices() {
  store(
    customerItem(customer('c1')),
    customerItem(customer('c2')),
    customerItem(mainOffice('hq', { hierarchy: { branchCount: 2 } })),
    customerItem(branchOf('b1', 'hq')),
    customerItem(branchOf('b2', 'hq')),
  );
}

const extensionItem = (owner: string, number: string, extra: Record<string, unknown> = {}) => ({
  ...extensionKey(owner, number),
  entityType: 'extension',
  number,
  name: `Extension ${number}`,
  ownerId: owner,
  accountNumber: null,
  ...extra,
});

const huntGroupItem = (
  owner: string,
  number: string,
  members: { number: string; ownerId: string }[],
  extra: Record<string, unknown> = {},
) => ({
  ...huntGroupKey(owner, number),
  entityType: 'huntGroup',
  number,
  name: `Hunt group ${number}`,
  ownerId: owner,
  strategy: 'round_robin',
  members,
  ...extra,
});

function queryTable(input: QueryCommandInput) {
  const values = input.ExpressionAttributeValues ?? {};
  const inRange = (sk: string) => {
    if (input.KeyConditionExpression === 'pk = :pk AND begins_with(sk, :prefix)')
      return sk.startsWith(String(values[':prefix']));
    if (input.KeyConditionExpression === 'pk = :pk AND sk BETWEEN :after AND :end')
      return (
        Buffer.compare(Buffer.from(sk), Buffer.from(String(values[':after']))) >= 0 &&
        Buffer.compare(Buffer.from(sk), Buffer.from(String(values[':end']))) <= 0
      );
    throw new Error(`Unexpected key condition ${input.KeyConditionExpression}`);
  };
  const rows = [...table.values()]
    .filter((item) => item.pk === values[':pk'] && inRange(String(item.sk)))
    // DynamoDB orders string sort keys by their UTF-8 bytes.
    .sort((a, b) => Buffer.compare(Buffer.from(String(a.sk)), Buffer.from(String(b.sk))));
  const limit = input.Limit ?? rows.length;
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    Items: items,
    LastEvaluatedKey: rows.length > limit && last ? { pk: last.pk, sk: last.sk } : undefined,
  };
}

beforeEach(() => {
  ddb.reset();
  table = new Map();
  // No pause between attempts.
  vi.spyOn(Math, 'random').mockReturnValue(0);
  ddb
    .on(GetCommand)
    .callsFake(async (input: GetCommandInput) => ({ Item: table.get(slot(input.Key)) }));
  ddb.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => ({
    Responses: {
      [tableName]: (input.RequestItems?.[tableName]?.Keys ?? []).flatMap((key) => {
        const item = table.get(slot(key));
        return item ? [item] : [];
      }),
    },
  }));
  ddb.on(QueryCommand).callsFake(async (input: QueryCommandInput) => queryTable(input));
  ddb.on(TransactWriteCommand).resolves({});
});

afterEach(() => {
  vi.restoreAllMocks();
});

const writes = () =>
  ddb.commandCalls(PutCommand).length +
  ddb.commandCalls(UpdateCommand).length +
  ddb.commandCalls(DeleteCommand).length +
  ddb.commandCalls(TransactWriteCommand).length;
const gets = () => ddb.commandCalls(GetCommand).map((call) => call.args[0].input);
const batchGets = () => ddb.commandCalls(BatchGetCommand).map((call) => call.args[0].input);
const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
const transactions = () =>
  ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems);
/** The Update at `position` of the first transaction, or an empty object. */
const updateAt = (position: number): Record<string, unknown> =>
  (transactions()[0]?.[position] as { Update?: Record<string, unknown> } | undefined)?.Update ?? {};
const customerRead = (id: string) => ({
  TableName: tableName,
  Key: customerKey(id),
  ConsistentRead: true,
});

/** The registry writes and customer check of adding (or removing) a number, spelled out. */
function numberWrites(
  customerId: string,
  group: string,
  number: string,
  adding: boolean,
  /** Change in the branch's count of hunt-group members that are its main office's extensions. */
  inherited = 0,
): Record<string, unknown>[] {
  const action = adding ? 'ADD' : 'DELETE';
  const numbers = new Set([number]);
  const customerCheck = {
    ConditionCheck: {
      TableName: tableName,
      Key: customerKey(customerId),
      ConditionExpression: '#status = :active AND numberGroup = :group',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':active': 'active', ':group': group },
    },
  };
  const reservation = adding
    ? {
        ConditionExpression: 'NOT contains(reserved, :number)',
        ExpressionAttributeValues: {
          ':numbers': numbers,
          ':zero': 0,
          ':one': 1,
          ':number': number,
        },
      }
    : { ExpressionAttributeValues: { ':numbers': numbers, ':zero': 0, ':one': 1 } };
  if (group === customerId) {
    return [
      {
        Update: {
          TableName: tableName,
          Key: registryKey(customerId),
          UpdateExpression: `${bump} ${action} reserved :numbers, #own :numbers`,
          ExpressionAttributeNames: { '#own': 'own' },
          ...reservation,
        },
      },
      customerCheck,
    ];
  }
  return [
    {
      Update: {
        TableName: tableName,
        Key: registryKey(group),
        UpdateExpression: `${bump} ${action} reserved :numbers`,
        ...reservation,
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: registryKey(customerId),
        UpdateExpression: `${bump} ${action} #own :numbers${
          inherited ? `${adding ? ',' : ' ADD'} inheritedMembers :inherited` : ''
        }`,
        ExpressionAttributeNames: { '#own': 'own' },
        ExpressionAttributeValues: {
          ':numbers': numbers,
          ':zero': 0,
          ':one': 1,
          ...(inherited ? { ':inherited': inherited } : {}),
        },
      },
    },
    customerCheck,
  ];
}

/** Every placeholder a write names is given, and every one given is used: DynamoDB refuses either slip. */
function expectPlaceholdersMatch(items: readonly Record<string, unknown>[] | undefined) {
  for (const wrapper of items ?? []) {
    const operation = Object.values(wrapper)[0] as Record<string, unknown>;
    const text = [
      operation.UpdateExpression,
      operation.ConditionExpression,
      operation.KeyConditionExpression,
    ]
      .filter((part) => typeof part === 'string')
      .join(' ');
    const values = Object.keys((operation.ExpressionAttributeValues as object) ?? {}).sort();
    const names = Object.keys((operation.ExpressionAttributeNames as object) ?? {}).sort();
    expect([...new Set(text.match(/:[A-Za-z]+/g) ?? [])].sort()).toEqual(values);
    expect([...new Set(text.match(/#[A-Za-z]+/g) ?? [])].sort()).toEqual(names);
    for (const value of Object.values((operation.ExpressionAttributeValues as object) ?? {})) {
      if (value instanceof Set) expect(value.size).toBeGreaterThan(0);
    }
  }
}

describe('the PBX keys', () => {
  it('sort numbers by length first, so they list in numeric order', () => {
    expect(pbxSortKey('extension', '9')).toBe('EXTENSION#1#9');
    expect(pbxSortKey('huntGroup', '12345678')).toBe('HUNT_GROUP#8#12345678');
    expect(pbxItemKey('c1', 'extension', '101')).toEqual(extensionKey('c1', '101'));
    expect(pbxItemKey('c1', 'huntGroup', '101')).toEqual(huntGroupKey('c1', '101'));
    expect(pbxRegistryKey('c1')).toEqual(registryKey('c1'));
  });
});

describe('createExtension', () => {
  const put = (owner: string, number: string, name: string, accountNumber: string | null) => ({
    Put: {
      TableName: tableName,
      Item: {
        ...extensionKey(owner, number),
        entityType: 'extension',
        number,
        name,
        ownerId: owner,
        accountNumber,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });

  it('reads a standalone customer, then puts the item, reserves the number in its own registry and checks the customer in one transaction', async () => {
    storeOffices();

    await expect(
      createExtension(ctx, resellerR1, 'c1', {
        number: '101',
        name: 'Reception',
        accountNumber: '+4930100000',
      }),
    ).resolves.toStrictEqual({
      number: '101',
      name: 'Reception',
      accountNumber: '+4930100000',
      inheritedFrom: null,
    });

    expect(ddb.calls()).toHaveLength(2);
    expect(gets()).toEqual([customerRead('c1')]);
    const expected = [
      put('c1', '101', 'Reception', '+4930100000'),
      ...numberWrites('c1', 'c1', '101', true),
    ];
    expect(transactions()).toEqual([expected]);
    // Spelled out once, literally, besides the helper.
    expect(transactions()[0]?.[1]).toEqual({
      Update: {
        TableName: tableName,
        Key: { pk: 'CUSTOMER#c1', sk: 'PBX_NUMBERS' },
        UpdateExpression:
          'SET revision = if_not_exists(revision, :zero) + :one ADD reserved :numbers, #own :numbers',
        ConditionExpression: 'NOT contains(reserved, :number)',
        ExpressionAttributeNames: { '#own': 'own' },
        ExpressionAttributeValues: {
          ':numbers': new Set(['101']),
          ':zero': 0,
          ':one': 1,
          ':number': '101',
        },
      },
    });
    expectPlaceholdersMatch(transactions()[0]);
  });

  it('stores a null accountNumber when none is given', async () => {
    storeOffices();

    await expect(
      createExtension(ctx, admin, 'c1', { number: '7', name: 'Lab' }),
    ).resolves.toStrictEqual({
      number: '7',
      name: 'Lab',
      accountNumber: null,
      inheritedFrom: null,
    });
    expect(transactions()).toEqual([
      [put('c1', '7', 'Lab', null), ...numberWrites('c1', 'c1', '7', true)],
    ]);
  });

  it('reserves the number of a main office in its own registry, its group being itself', async () => {
    storeOffices();

    await createExtension(ctx, admin, 'hq', { number: '200', name: 'Desk' });

    expect(gets()).toEqual([customerRead('hq')]);
    expect(transactions()).toEqual([
      [put('hq', '200', 'Desk', null), ...numberWrites('hq', 'hq', '200', true)],
    ]);
  });

  it('reserves the number of a branch in its main office’s registry and records it in its own', async () => {
    storeOffices();

    await expect(
      createExtension(ctx, resellerR1, 'b1', { number: '201', name: 'Branch desk' }),
    ).resolves.toStrictEqual({
      number: '201',
      name: 'Branch desk',
      accountNumber: null,
      inheritedFrom: null,
    });

    expect(gets()).toEqual([customerRead('b1')]);
    const [items] = transactions();
    expect(items).toEqual([
      put('b1', '201', 'Branch desk', null),
      {
        Update: {
          TableName: tableName,
          Key: { pk: 'CUSTOMER#hq', sk: 'PBX_NUMBERS' },
          UpdateExpression:
            'SET revision = if_not_exists(revision, :zero) + :one ADD reserved :numbers',
          ConditionExpression: 'NOT contains(reserved, :number)',
          ExpressionAttributeValues: {
            ':numbers': new Set(['201']),
            ':zero': 0,
            ':one': 1,
            ':number': '201',
          },
        },
      },
      {
        Update: {
          TableName: tableName,
          Key: { pk: 'CUSTOMER#b1', sk: 'PBX_NUMBERS' },
          UpdateExpression:
            'SET revision = if_not_exists(revision, :zero) + :one ADD #own :numbers',
          ExpressionAttributeNames: { '#own': 'own' },
          ExpressionAttributeValues: { ':numbers': new Set(['201']), ':zero': 0, ':one': 1 },
        },
      },
      {
        ConditionCheck: {
          TableName: tableName,
          Key: { pk: 'CUSTOMER#b1', sk: 'CUSTOMER' },
          ConditionExpression: '#status = :active AND numberGroup = :group',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active', ':group': 'hq' },
        },
      },
    ]);
    // The main office's registry carries no #own: the branch's numbers are not the main office's.
    expect(updateAt(1).UpdateExpression).toBeDefined();
    expect(updateAt(1).ExpressionAttributeNames).toBe(undefined);
    expect(updateAt(2).ConditionExpression).toBe(undefined);
    expectPlaceholdersMatch(items);
  });

  it.each([
    ['an absent customer', admin, false],
    ['a customer of another reseller', { role: 'reseller', resellerId: 'r2' } as Caller, true],
    ['another customer', { role: 'customer', customerId: 'c2' } as Caller, true],
  ])('answers 404 for %s after reading only the customer', async (_label, caller, stored) => {
    if (stored) storeOffices();

    await expect(
      createExtension(ctx, caller, 'c1', { number: '101', name: 'Reception' }),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(gets()).toEqual([customerRead('c1')]);
    expect(writes()).toBe(0);
  });

  it('answers 409 customer_terminated for a terminated customer without writing', async () => {
    store(customerItem(customer('c1', terminatedShape)));

    await expect(
      createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' }),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(writes()).toBe(0);
  });

  it.each([
    ['a standalone customer', 'c1', ['None', 'ConditionalCheckFailed', 'None']],
    [
      'a standalone customer whose item also exists',
      'c1',
      ['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'],
    ],
    ['a branch', 'b1', ['None', 'ConditionalCheckFailed', 'None', 'None']],
  ])(
    'answers 409 number_conflict when the group’s registry refuses the number, for %s, without retrying',
    async (_label, id, codes) => {
      storeOffices();
      ddb.on(TransactWriteCommand).rejects(cancelled(...codes));

      const refusal = createExtension(ctx, admin, id, { number: '101', name: 'Reception' });
      await expect(refusal).rejects.toMatchObject({
        status: 409,
        code: 'number_conflict',
        errors: [{ path: 'numbers.101' }],
      });
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
      expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    },
  );

  it('retries with a fresh read when only the customer check failed, planning for the group it now reads', async () => {
    storeOffices();
    ddb
      .on(TransactWriteCommand)
      .callsFakeOnce(async () => {
        // Linked as a branch of hq meanwhile.
        store(customerItem(branchOf('c1', 'hq')));
        throw cancelled('None', 'None', 'ConditionalCheckFailed');
      })
      .resolves({});

    await expect(
      createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' }),
    ).resolves.toMatchObject({ number: '101', inheritedFrom: null });

    expect(gets()).toEqual([customerRead('c1'), customerRead('c1')]);
    expect(transactions()).toEqual([
      [put('c1', '101', 'Reception', null), ...numberWrites('c1', 'c1', '101', true)],
      [put('c1', '101', 'Reception', null), ...numberWrites('c1', 'hq', '101', true)],
    ]);
  });

  it('retries, not refuses, when the registry met a transaction conflict', async () => {
    storeOffices();
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None'))
      .resolves({});

    await createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' });

    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('answers 409 customer_terminated when the fresh read shows the customer terminated', async () => {
    storeOffices();
    ddb.on(TransactWriteCommand).callsFakeOnce(async () => {
      store(customerItem(customer('c1', terminatedShape)));
      throw cancelled('None', 'None', 'ConditionalCheckFailed');
    });

    await expect(
      createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' }),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts, and lets other errors through', async () => {
    storeOffices();
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));

    await expect(
      createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' }),
    ).rejects.toMatchObject({ status: 409, code: 'concurrent_update' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 5);

    ddb.resetHistory();
    const throttled = new Error('throttled');
    ddb.on(TransactWriteCommand).rejects(throttled);
    await expect(
      createExtension(ctx, admin, 'c1', { number: '101', name: 'Reception' }),
    ).rejects.toBe(throttled);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});

describe('createHuntGroup', () => {
  const usedByUpdate = (owner: string, number: string) => ({
    Update: {
      TableName: tableName,
      Key: extensionKey(owner, number),
      UpdateExpression: 'ADD usedBy :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':one': 1 },
    },
  });
  const put = (
    owner: string,
    number: string,
    strategy: string,
    members: { number: string; ownerId: string }[],
  ) => ({
    Put: {
      TableName: tableName,
      Item: {
        ...huntGroupKey(owner, number),
        entityType: 'huntGroup',
        number,
        name: 'Sales',
        ownerId: owner,
        strategy,
        members,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });

  it('looks the members up among the standalone customer’s extensions in one batch read, then writes the group and counts each member', async () => {
    storeOffices();
    store(extensionItem('c1', '101'), extensionItem('c1', '102'));

    await expect(
      createHuntGroup(ctx, resellerR1, 'c1', {
        number: '300',
        name: 'Sales',
        strategy: 'sequential',
        members: ['102', '101'],
      }),
    ).resolves.toStrictEqual({
      number: '300',
      name: 'Sales',
      strategy: 'sequential',
      members: ['102', '101'],
      inheritedFrom: null,
    });

    expect(gets()).toEqual([customerRead('c1')]);
    expect(batchGets()).toEqual([
      {
        RequestItems: {
          [tableName]: {
            Keys: [extensionKey('c1', '102'), extensionKey('c1', '101')],
            ConsistentRead: true,
          },
        },
      },
    ]);
    expect(transactions()).toEqual([
      [
        put('c1', '300', 'sequential', [
          { number: '102', ownerId: 'c1' },
          { number: '101', ownerId: 'c1' },
        ]),
        ...numberWrites('c1', 'c1', '300', true),
        usedByUpdate('c1', '102'),
        usedByUpdate('c1', '101'),
      ],
    ]);
    expectPlaceholdersMatch(transactions()[0]);
    expect(ddb.calls()).toHaveLength(3);
  });

  it('lets a branch use its own and its main office’s extensions, counting each at its owner', async () => {
    storeOffices();
    store(extensionItem('hq', '101'), extensionItem('b1', '201'));

    await expect(
      createHuntGroup(ctx, admin, 'b1', {
        number: '300',
        name: 'Sales',
        strategy: 'least_used',
        members: ['101', '201'],
      }),
    ).resolves.toStrictEqual({
      number: '300',
      name: 'Sales',
      strategy: 'least_used',
      members: ['101', '201'],
      inheritedFrom: null,
    });

    expect(batchGets()).toHaveLength(1);
    const keys = batchGets()[0]?.RequestItems?.[tableName]?.Keys;
    expect(keys).toHaveLength(4);
    expect(keys).toEqual(
      expect.arrayContaining([
        extensionKey('b1', '101'),
        extensionKey('b1', '201'),
        extensionKey('hq', '101'),
        extensionKey('hq', '201'),
      ]),
    );
    expect(batchGets()[0]?.RequestItems?.[tableName]?.ConsistentRead).toBe(true);
    expect(transactions()).toEqual([
      [
        put('b1', '300', 'least_used', [
          { number: '101', ownerId: 'hq' },
          { number: '201', ownerId: 'b1' },
        ]),
        ...numberWrites('b1', 'hq', '300', true, 1),
        usedByUpdate('hq', '101'),
        usedByUpdate('b1', '201'),
      ],
    ]);
    expectPlaceholdersMatch(transactions()[0]);
  });

  it('answers 422 unknown_member naming each member the branch cannot see, writing nothing', async () => {
    storeOffices();
    store(
      extensionItem('hq', '101'),
      // A sibling branch's and another customer's extensions are not visible.
      extensionItem('b2', '777'),
      extensionItem('c1', '555'),
      // A hunt group is not an extension.
      huntGroupItem('b1', '400', [{ number: '101', ownerId: 'hq' }]),
    );

    await expect(
      createHuntGroup(ctx, admin, 'b1', {
        number: '300',
        name: 'Sales',
        strategy: 'simultaneous',
        members: ['777', '101', '555', '400'],
      }),
    ).rejects.toMatchObject({
      status: 422,
      code: 'unknown_member',
      errors: [
        { path: 'body.members.777' },
        { path: 'body.members.555' },
        { path: 'body.members.400' },
      ],
    });
    expect(batchGets()).toHaveLength(1);
    expect(writes()).toBe(0);
  });

  it('answers 422 unknown_member for a standalone customer naming a main office’s extension', async () => {
    storeOffices();
    store(extensionItem('hq', '101'), extensionItem('c1', '102'));

    await expect(
      createHuntGroup(ctx, admin, 'c1', {
        number: '300',
        name: 'Sales',
        strategy: 'simultaneous',
        members: ['102', '101'],
      }),
    ).rejects.toMatchObject({
      status: 422,
      code: 'unknown_member',
      errors: [{ path: 'body.members.101' }],
    });
    expect(batchGets()[0]?.RequestItems?.[tableName]?.Keys).toEqual([
      extensionKey('c1', '102'),
      extensionKey('c1', '101'),
    ]);
    expect(writes()).toBe(0);
  });

  it('answers 404 out of scope and 409 for a terminated customer, before looking members up', async () => {
    storeOffices();
    store(customerItem(customer('c2', terminatedShape)), extensionItem('c1', '101'));
    const input = {
      number: '300',
      name: 'Sales',
      strategy: 'simultaneous' as const,
      members: ['101'],
    };

    await expect(
      createHuntGroup(ctx, { role: 'reseller', resellerId: 'r2' }, 'c1', input),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(createHuntGroup(ctx, admin, 'c2', input)).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    expect(batchGets()).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('answers 409 number_conflict when the group’s registry refuses the hunt group’s number', async () => {
    storeOffices();
    store(extensionItem('hq', '101'));
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'ConditionalCheckFailed', 'None', 'None', 'None'));

    await expect(
      createHuntGroup(ctx, admin, 'b1', {
        number: '300',
        name: 'Sales',
        strategy: 'simultaneous',
        members: ['101'],
      }),
    ).rejects.toMatchObject({
      status: 409,
      code: 'number_conflict',
      errors: [{ path: 'numbers.300' }],
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('looks the members up again when a member vanished meanwhile, then answers 422', async () => {
    storeOffices();
    store(extensionItem('c1', '101'));
    ddb.on(TransactWriteCommand).callsFakeOnce(async () => {
      table.delete(slot(extensionKey('c1', '101')));
      throw cancelled('None', 'None', 'None', 'ConditionalCheckFailed');
    });

    await expect(
      createHuntGroup(ctx, admin, 'c1', {
        number: '300',
        name: 'Sales',
        strategy: 'simultaneous',
        members: ['101'],
      }),
    ).rejects.toMatchObject({ status: 422, code: 'unknown_member' });
    expect(batchGets()).toHaveLength(2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('answers 409 concurrent_update after five cancelled attempts', async () => {
    storeOffices();
    store(extensionItem('c1', '101'));
    ddb
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'None', 'ConditionalCheckFailed', 'None'));

    await expect(
      createHuntGroup(ctx, admin, 'c1', {
        number: '300',
        name: 'Sales',
        strategy: 'simultaneous',
        members: ['101'],
      }),
    ).rejects.toMatchObject({ status: 409, code: 'concurrent_update' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 5);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 5);
  });
});

describe('deletePbxItem', () => {
  const itemRead = (key: { pk: string; sk: string }) => ({
    TableName: tableName,
    Key: key,
    ConsistentRead: true,
  });
  const deletion = (key: { pk: string; sk: string }) => ({
    Delete: {
      TableName: tableName,
      Key: key,
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(usedBy) OR usedBy = :zero)',
      ExpressionAttributeValues: { ':zero': 0 },
    },
  });
  const uncount = (owner: string, number: string) => ({
    Update: {
      TableName: tableName,
      Key: extensionKey(owner, number),
      UpdateExpression: 'ADD usedBy :minusOne',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':minusOne': -1 },
    },
  });

  it('answers 409 inherited_item when the branch’s own item is absent and its main office has it, writing nothing', async () => {
    storeOffices();
    store(extensionItem('hq', '101'));

    await expect(deletePbxItem(ctx, admin, 'b1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'inherited_item',
    });
    expect(gets()).toEqual([
      customerRead('b1'),
      itemRead(extensionKey('b1', '101')),
      itemRead(extensionKey('hq', '101')),
    ]);
    expect(writes()).toBe(0);
  });

  it('answers 409 inherited_item for a main office’s hunt group seen from a branch', async () => {
    storeOffices();
    store(huntGroupItem('hq', '300', []));

    await expect(deletePbxItem(ctx, admin, 'b1', 'huntGroup', '300')).rejects.toMatchObject({
      status: 409,
      code: 'inherited_item',
    });
    expect(gets().at(-1)).toEqual(itemRead(huntGroupKey('hq', '300')));
  });

  it('answers 404 for a branch when neither it nor its main office has the item', async () => {
    storeOffices();
    // The same number of the other kind, or of a sibling branch, is not the item.
    store(huntGroupItem('hq', '101', []), extensionItem('b2', '101'));

    await expect(deletePbxItem(ctx, admin, 'b1', 'extension', '101')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([
      customerRead('b1'),
      itemRead(extensionKey('b1', '101')),
      itemRead(extensionKey('hq', '101')),
    ]);
    expect(writes()).toBe(0);
  });

  it('answers 404 for a root customer without the item after reading only it and the item', async () => {
    storeOffices();
    store(extensionItem('b1', '101'));

    await expect(deletePbxItem(ctx, admin, 'hq', 'extension', '101')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(gets()).toEqual([customerRead('hq'), itemRead(extensionKey('hq', '101'))]);
    expect(writes()).toBe(0);
  });

  it('answers 404 out of scope and 409 for a terminated customer, writing nothing', async () => {
    storeOffices();
    store(
      customerItem(customer('c2', terminatedShape)),
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
    storeOffices();
    store(extensionItem('c1', '101', { usedBy: 2 }));

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
      storeOffices();
      store(extensionItem('c1', '101', extra));

      await expect(deletePbxItem(ctx, resellerR1, 'c1', 'extension', '101')).resolves.toBe(
        undefined,
      );

      const expected = [
        deletion(extensionKey('c1', '101')),
        ...numberWrites('c1', 'c1', '101', false),
      ];
      expect(transactions()).toEqual([expected]);
      expect(transactions()[0]?.[1]).toEqual({
        Update: {
          TableName: tableName,
          Key: registryKey('c1'),
          UpdateExpression:
            'SET revision = if_not_exists(revision, :zero) + :one DELETE reserved :numbers, #own :numbers',
          ExpressionAttributeNames: { '#own': 'own' },
          ExpressionAttributeValues: { ':numbers': new Set(['101']), ':zero': 0, ':one': 1 },
        },
      });
      expect(updateAt(1).UpdateExpression).toBeDefined();
      expect(updateAt(1).ConditionExpression).toBe(undefined);
      expectPlaceholdersMatch(transactions()[0]);
    },
  );

  it('deletes a branch’s hunt group: its number leaves the main office’s registry and its own, and each member is uncounted at its owner', async () => {
    storeOffices();
    store(
      extensionItem('hq', '101', { usedBy: 1 }),
      extensionItem('b1', '201', { usedBy: 1 }),
      huntGroupItem('b1', '300', [
        { number: '101', ownerId: 'hq' },
        { number: '201', ownerId: 'b1' },
      ]),
    );

    await deletePbxItem(ctx, admin, 'b1', 'huntGroup', '300');

    expect(gets()).toEqual([customerRead('b1'), itemRead(huntGroupKey('b1', '300'))]);
    expect(transactions()).toEqual([
      [
        deletion(huntGroupKey('b1', '300')),
        {
          Update: {
            TableName: tableName,
            Key: registryKey('hq'),
            UpdateExpression: `${bump} DELETE reserved :numbers`,
            ExpressionAttributeValues: { ':numbers': new Set(['300']), ':zero': 0, ':one': 1 },
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: registryKey('b1'),
            UpdateExpression: `${bump} DELETE #own :numbers ADD inheritedMembers :inherited`,
            ExpressionAttributeNames: { '#own': 'own' },
            ExpressionAttributeValues: {
              ':numbers': new Set(['300']),
              ':zero': 0,
              ':one': 1,
              ':inherited': -1,
            },
          },
        },
        {
          ConditionCheck: {
            TableName: tableName,
            Key: customerKey('b1'),
            ConditionExpression: '#status = :active AND numberGroup = :group',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'active', ':group': 'hq' },
          },
        },
        uncount('hq', '101'),
        uncount('b1', '201'),
      ],
    ]);
    expectPlaceholdersMatch(transactions()[0]);
  });

  it('reads again after a cancelled delete and answers 409 extension_in_use once a hunt group took the extension', async () => {
    storeOffices();
    store(extensionItem('c1', '101'));
    ddb.on(TransactWriteCommand).callsFakeOnce(async () => {
      store(extensionItem('c1', '101', { usedBy: 1 }));
      throw cancelled('ConditionalCheckFailed', 'None', 'None');
    });

    await expect(deletePbxItem(ctx, admin, 'c1', 'extension', '101')).rejects.toMatchObject({
      status: 409,
      code: 'extension_in_use',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(gets()).toEqual([
      customerRead('c1'),
      itemRead(extensionKey('c1', '101')),
      customerRead('c1'),
      itemRead(extensionKey('c1', '101')),
    ]);
  });

  it('answers 409 concurrent_update after five cancelled attempts, and lets other errors through', async () => {
    storeOffices();
    store(extensionItem('c1', '101'));
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));

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

describe('listPbxItems', () => {
  const cursorOf = (sk: string) => Buffer.from(sk).toString('base64url');
  const firstQuery = (owner: string, prefix: string, limit: number) => ({
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': `CUSTOMER#${owner}`, ':prefix': prefix },
    Limit: limit + 1,
    ConsistentRead: true,
  });
  const laterQuery = (owner: string, prefix: string, after: string, limit: number) => ({
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :after AND :end',
    ExpressionAttributeValues: {
      ':pk': `CUSTOMER#${owner}`,
      ':after': `${after}\u0000`,
      ':end': `${prefix}\uffff`,
    },
    Limit: limit + 1,
    ConsistentRead: true,
  });
  const extension = (number: string, inheritedFrom: string | null) => ({
    number,
    name: `Extension ${number}`,
    accountNumber: null,
    inheritedFrom,
  });

  /** Items of other kinds share the partitions and must stay out of the lists. */
  function storeOtherItems() {
    store(
      { ...registryKey('c1'), own: new Set(['9']), reserved: new Set(['9']), revision: 1 },
      huntGroupItem('c1', '50', []),
      { pk: 'CUSTOMER#c1', sk: 'LINE_COUNT', lineCount: 2 },
    );
  }

  it('reads a root customer and one page of its own items, in numeric order', async () => {
    storeOffices();
    storeOtherItems();
    store(
      extensionItem('c1', '100'),
      extensionItem('c1', '9', { accountNumber: '+4930100000' }),
      extensionItem('c1', '10'),
    );

    await expect(
      listPbxItems(ctx, resellerR1, 'c1', 'extension', { limit: 25 }),
    ).resolves.toStrictEqual({
      items: [
        { ...extension('9', null), accountNumber: '+4930100000' },
        extension('10', null),
        extension('100', null),
      ],
      nextCursor: null,
    });
    expect(ddb.calls()).toHaveLength(2);
    expect(gets()).toEqual([customerRead('c1')]);
    expect(queries()).toEqual([firstQuery('c1', 'EXTENSION#', 25)]);
  });

  it('merges a branch’s own items with its main office’s, read after the customer, in numeric order', async () => {
    storeOffices();
    store(
      extensionItem('b1', '300'),
      extensionItem('b1', '10'),
      extensionItem('hq', '2000'),
      extensionItem('hq', '9'),
      extensionItem('hq', '100'),
      // A sibling's items are not inherited.
      extensionItem('b2', '11'),
    );

    await expect(listPbxItems(ctx, admin, 'b1', 'extension', { limit: 25 })).resolves.toStrictEqual(
      {
        items: [
          extension('9', 'hq'),
          extension('10', null),
          extension('100', 'hq'),
          extension('300', null),
          extension('2000', 'hq'),
        ],
        nextCursor: null,
      },
    );
    expect(ddb.calls()).toHaveLength(3);
    expect(queries()).toEqual([
      firstQuery('b1', 'EXTENSION#', 25),
      firstQuery('hq', 'EXTENSION#', 25),
    ]);
    // The main office is known only from the customer's record.
    const order = ddb.calls().map((call) => call.args[0].constructor.name);
    expect(order).toEqual(['GetCommand', 'QueryCommand', 'QueryCommand']);
    expect(ddb.calls()[2]?.args[0].input).toEqual(firstQuery('hq', 'EXTENSION#', 25));
  });

  it('shows a main office its own items only, with inheritedFrom null', async () => {
    storeOffices();
    store(extensionItem('hq', '9'), extensionItem('b1', '10'));

    await expect(listPbxItems(ctx, admin, 'hq', 'extension', { limit: 25 })).resolves.toStrictEqual(
      { items: [extension('9', null)], nextCursor: null },
    );
    expect(queries()).toEqual([firstQuery('hq', 'EXTENSION#', 25)]);
  });

  it('lists hunt groups with their members and strategy, inherited ones marked', async () => {
    storeOffices();
    store(
      extensionItem('hq', '50'),
      huntGroupItem('hq', '700', [{ number: '101', ownerId: 'hq' }]),
      huntGroupItem(
        'b1',
        '80',
        [
          { number: '101', ownerId: 'hq' },
          { number: '201', ownerId: 'b1' },
        ],
        { strategy: 'sequential' },
      ),
    );

    await expect(listPbxItems(ctx, admin, 'b1', 'huntGroup', { limit: 25 })).resolves.toStrictEqual(
      {
        items: [
          {
            number: '80',
            name: 'Hunt group 80',
            strategy: 'sequential',
            members: ['101', '201'],
            inheritedFrom: null,
          },
          {
            number: '700',
            name: 'Hunt group 700',
            strategy: 'round_robin',
            members: ['101'],
            inheritedFrom: 'hq',
          },
        ],
        nextCursor: null,
      },
    );
    expect(queries()).toEqual([
      firstQuery('b1', 'HUNT_GROUP#', 25),
      firstQuery('hq', 'HUNT_GROUP#', 25),
    ]);
  });

  it('pages through the merge with a cursor of the last sort key, each item once', async () => {
    storeOffices();
    store(
      extensionItem('b1', '300'),
      extensionItem('b1', '10'),
      extensionItem('hq', '2000'),
      extensionItem('hq', '9'),
      extensionItem('hq', '100'),
    );

    const first = await listPbxItems(ctx, admin, 'b1', 'extension', { limit: 2 });
    expect(first).toStrictEqual({
      items: [extension('9', 'hq'), extension('10', null)],
      nextCursor: cursorOf('EXTENSION#2#10'),
    });
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);

    ddb.resetHistory();
    const second = await listPbxItems(ctx, admin, 'b1', 'extension', {
      limit: 2,
      cursor: first.nextCursor ?? '',
    });
    expect(second).toStrictEqual({
      items: [extension('100', 'hq'), extension('300', null)],
      nextCursor: cursorOf('EXTENSION#3#300'),
    });
    expect(queries()).toEqual([
      laterQuery('b1', 'EXTENSION#', 'EXTENSION#2#10', 2),
      laterQuery('hq', 'EXTENSION#', 'EXTENSION#2#10', 2),
    ]);

    const third = await listPbxItems(ctx, admin, 'b1', 'extension', {
      limit: 2,
      cursor: second.nextCursor ?? '',
    });
    expect(third).toStrictEqual({ items: [extension('2000', 'hq')], nextCursor: null });
  });

  it('ends a list whose last page is exactly full with a null cursor', async () => {
    storeOffices();
    store(extensionItem('c1', '1'), extensionItem('c1', '2'));

    await expect(listPbxItems(ctx, admin, 'c1', 'extension', { limit: 2 })).resolves.toMatchObject({
      nextCursor: null,
    });
  });

  it('accepts a hunt-group cursor on the hunt-group list', async () => {
    storeOffices();
    store(huntGroupItem('c1', '5', []), huntGroupItem('c1', '6', []));

    await expect(
      listPbxItems(ctx, admin, 'c1', 'huntGroup', { limit: 5, cursor: cursorOf('HUNT_GROUP#1#5') }),
    ).resolves.toMatchObject({ items: [{ number: '6' }], nextCursor: null });
    expect(queries()).toEqual([laterQuery('c1', 'HUNT_GROUP#', 'HUNT_GROUP#1#5', 5)]);
  });

  it.each([
    ['a hunt-group key on the extension list', cursorOf('HUNT_GROUP#1#5')],
    ['the customer’s own key', cursorOf('CUSTOMER')],
    ['the registry’s key', cursorOf('PBX_NUMBERS')],
    [
      'a JSON key',
      Buffer.from(JSON.stringify({ pk: 'CUSTOMER#c2', sk: 'EXTENSION#1#1' })).toString('base64url'),
    ],
    ['a number of nine digits', cursorOf('EXTENSION#9#123456789')],
    ['a two-digit length', cursorOf('EXTENSION#10#1')],
    ['a trailing newline', cursorOf('EXTENSION#1#9\n')],
    ['a trailing NUL', cursorOf('EXTENSION#1#9\u0000')],
    ['non-ASCII digits', cursorOf('EXTENSION#1#٩')],
    ['no number', cursorOf('EXTENSION#1#')],
    ['an empty cursor', ''],
    ['garbage', '!!!'],
  ])('answers 400 validation_failed on cursor for %s, reading nothing', async (_label, cursor) => {
    storeOffices();
    store(extensionItem('c1', '9'));

    await expect(
      listPbxItems(ctx, admin, 'c1', 'extension', { limit: 25, cursor }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ path: 'cursor' }],
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    ['an absent customer', admin, 'c9'],
    ['a customer of another reseller', { role: 'reseller', resellerId: 'r2' } as Caller, 'c1'],
    ['another customer', { role: 'customer', customerId: 'c2' } as Caller, 'c1'],
    [
      'a branch of another customer’s main office',
      { role: 'customer', customerId: 'hq' } as Caller,
      'b1',
    ],
  ])('answers 404 for %s', async (_label, caller, id) => {
    storeOffices();
    store(extensionItem('c1', '9'), extensionItem('hq', '1'));

    await expect(listPbxItems(ctx, caller, id, 'extension', { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    // Nothing of the main office is read for a customer out of scope.
    expect(queries().map((query) => query.ExpressionAttributeValues?.[':pk'])).toEqual([
      `CUSTOMER#${id}`,
    ]);
  });
});

describe('numberConflictsOnLink', () => {
  it('answers the customer’s numbers the group already uses, in numeric order', () => {
    const own: PbxRegistry = { own: new Set(['100', '9', '55', '10', '2000']), revision: 3 };
    const target: PbxRegistry = { reserved: new Set(['10', '7', '100', '9', '1000']), revision: 8 };

    expect(numberConflictsOnLink(own, target)).toEqual(['9', '10', '100']);
  });

  it.each([
    ['the target has no reserved set', { own: new Set(['1', '2']) }, { revision: 4 }],
    ['the target registry is absent', { own: new Set(['1', '2']) }, {}],
    ['the customer has no numbers', {}, { reserved: new Set(['1', '2']) }],
    [
      'the sets do not meet',
      { own: new Set(['1', '2']) },
      { reserved: new Set(['12', '21']), own: new Set(['1', '2']) },
    ],
  ])('answers none when %s', (_label, own: PbxRegistry, target: PbxRegistry) => {
    expect(numberConflictsOnLink(own, target)).toEqual([]);
  });
});

describe('numberMovesOnLink', () => {
  const ownUpdate = (
    customerId: string,
    UpdateExpression: string,
    guard: { read?: number },
    extra: Record<string, unknown> = {},
  ) => ({
    Update: {
      TableName: tableName,
      Key: registryKey(customerId),
      UpdateExpression,
      ConditionExpression:
        guard.read === undefined ? 'attribute_not_exists(revision)' : 'revision = :read',
      ExpressionAttributeValues: {
        ':zero': 0,
        ':one': 1,
        ...(guard.read === undefined ? {} : { ':read': guard.read }),
        ...extra,
      },
    },
  });

  it('moves a standalone customer’s numbers into its new group, each registry guarded by the revision read', () => {
    const own = new Set(['101', '9']);
    const writes = numberMovesOnLink(
      ctx,
      'c1',
      {
        own: { own, reserved: new Set(['101', '9']), revision: 3 },
        target: { own: new Set(['200']), reserved: new Set(['200', '201']), revision: 7 },
      },
      { from: null, to: 'hq' },
    );

    expect(writes).toEqual([
      ownUpdate('c1', `${bump} REMOVE reserved`, { read: 3 }),
      {
        Update: {
          TableName: tableName,
          Key: registryKey('hq'),
          UpdateExpression: `${bump} ADD reserved :own`,
          ConditionExpression: 'revision = :read',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own, ':read': 7 },
        },
      },
    ]);
    expectPlaceholdersMatch(writes);
  });

  it('guards registries never written with attribute_not_exists(revision)', () => {
    const writes = numberMovesOnLink(
      ctx,
      'c1',
      { own: { own: new Set(['101']) }, target: {} },
      { from: null, to: 'hq' },
    );

    expect(writes).toEqual([
      ownUpdate('c1', `${bump} REMOVE reserved`, {}),
      {
        Update: {
          TableName: tableName,
          Key: registryKey('hq'),
          UpdateExpression: `${bump} ADD reserved :own`,
          ConditionExpression: 'attribute_not_exists(revision)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': new Set(['101']) },
        },
      },
    ]);
    expectPlaceholdersMatch(writes);
  });

  it('relinks a branch: its numbers also leave the old group’s reserved set', () => {
    const own = new Set(['201', '202']);
    const writes = numberMovesOnLink(
      ctx,
      'b1',
      { own: { own, revision: 2 }, target: { reserved: new Set(['300']), revision: 5 } },
      { from: 'hq', to: 'hq2' },
    );

    expect(writes).toEqual([
      ownUpdate('b1', `${bump} REMOVE reserved`, { read: 2 }),
      {
        Update: {
          TableName: tableName,
          Key: registryKey('hq2'),
          UpdateExpression: `${bump} ADD reserved :own`,
          ConditionExpression: 'revision = :read',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own, ':read': 5 },
        },
      },
      {
        Update: {
          TableName: tableName,
          Key: registryKey('hq'),
          UpdateExpression: `${bump} DELETE reserved :own`,
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own },
        },
      },
    ]);
    expectPlaceholdersMatch(writes);
  });

  it('unlinks a branch: it roots its own group again with its numbers as the reserved set', () => {
    const own = new Set(['201', '202']);
    const writes = numberMovesOnLink(
      ctx,
      'b1',
      { own: { own, revision: 4 } },
      { from: 'hq', to: null },
    );

    expect(writes).toEqual([
      ownUpdate('b1', `${bump}, reserved = :own`, { read: 4 }, { ':own': own }),
      {
        Update: {
          TableName: tableName,
          Key: registryKey('hq'),
          UpdateExpression: `${bump} DELETE reserved :own`,
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own },
        },
      },
    ]);
    expectPlaceholdersMatch(writes);
  });

  it.each([
    [
      'a link',
      { from: null, to: 'hq' },
      { own: { revision: 1 }, target: { reserved: new Set(['5']), revision: 2 } },
    ],
    [
      'a link with an empty own set',
      { from: null, to: 'hq' },
      { own: { own: new Set<string>() }, target: {} },
    ],
    ['a relink', { from: 'hq', to: 'hq2' }, { own: { revision: 6 }, target: { revision: 1 } }],
    ['an unlink', { from: 'hq', to: null }, { own: { revision: 6 } }],
  ] as const)(
    'writes only the customer’s own registry for %s of a customer without numbers',
    (_label, link, registries) => {
      const writes = numberMovesOnLink(
        ctx,
        'b1',
        registries as { own: PbxRegistry; target?: PbxRegistry },
        link,
      );

      const revision = (registries.own as PbxRegistry).revision;
      expect(writes).toEqual([
        ownUpdate(
          'b1',
          `${bump} REMOVE reserved`,
          revision === undefined ? {} : { read: revision },
        ),
      ]);
      expectPlaceholdersMatch(writes);
    },
  );
});
