import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { customerKey, customerListShardCount, shardOf } from '../../../../../lib/data/keys.js';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import {
  createCustomer,
  getCustomer,
  listCustomers,
  patchCustomer,
} from '../../../../../lib/domain/customers/customers.js';
import { valuesIn } from '../../../../fixtures/command-inputs.js';
import {
  branchOf,
  type CustomerShape,
  customer as customerRecord,
  mainOffice,
} from '../../../../fixtures/customer-records.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import { unitContext } from '../../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const ctx = unitContext;

/** The stored item of customer c1, named Acme (reseller r1, active, version 4 unless told). */
const storedCustomer = (shape: CustomerShape = {}) =>
  customerItem(customerRecord('c1', { name: 'Acme', ...shape }));

beforeEach(() => ddb.reset());

describe('createCustomer', () => {
  it('writes one conditional put with the index attributes and returns version 1', async () => {
    ddb.on(PutCommand).resolves({});
    const { customer, etag } = await createCustomer(
      ctx,
      { role: 'reseller', resellerId: 'r1' },
      {
        name: 'Ünïcode Co',
        businessModel: 'cloud_pbx',
        currency: 'USD',
      },
    );
    expect(etag).toBe('"1"');
    expect(customer).toMatchObject({
      id: ctx.newId(),
      resellerId: 'r1',
      timezone: 'UTC',
      status: 'active',
    });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        pk: `CUSTOMER#${ctx.newId()}`,
        entityType: 'customer',
        resellerPk: 'RESELLER#r1',
        allPk: `CUSTOMERS#${shardOf(ctx.newId(), customerListShardCount)}`,
        nameSk: `ünïcode co#${ctx.newId()}`,
        version: 1,
      }),
    });
  });

  it('never writes over an existing item: a colliding id is drawn again', async () => {
    ddb.on(PutCommand).rejectsOnce(conditionFailed(storedCustomer())).resolves({});
    const ids = ['TAKEN', 'FRESH'];
    const created = await createCustomer(
      { ...ctx, newId: () => ids.shift() ?? 'NONE' },
      { role: 'admin' },
      { name: 'x', businessModel: 'mobile', currency: 'EUR' },
    );
    expect(created.customer.id).toBe('FRESH');
    const puts = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.id);
    expect(puts).toEqual(['TAKEN', 'FRESH']);
  });

  it('refuses a reseller creating for another reseller before writing', async () => {
    await expect(
      createCustomer(
        ctx,
        { role: 'reseller', resellerId: 'r1' },
        {
          name: 'x',
          businessModel: 'mobile',
          currency: 'EUR',
          resellerId: 'r2',
        },
      ),
    ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });
});

describe('getCustomer', () => {
  it('returns the customer without its storage attributes, with its ETag', async () => {
    ddb.on(GetCommand).resolves({ Item: storedCustomer() });
    const { customer, etag } = await getCustomer(ctx, { role: 'admin' }, 'c1');
    expect(etag).toBe('"4"');
    expect(customer).not.toHaveProperty('pk');
    expect(customer).not.toHaveProperty('version');
    expect(customer.name).toBe('Acme');
  });

  it('shows a branch its main office’s invoicing, read with a second GetItem', async () => {
    ddb
      .on(GetCommand, { Key: customerKey('b1') })
      .resolves({ Item: customerItem(branchOf('b1', 'hq')) })
      .on(GetCommand, { Key: customerKey('hq') })
      .resolves({
        Item: customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      });
    const { customer } = await getCustomer(ctx, { role: 'admin' }, 'b1');
    expect(customer.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('answers 404 for another tenant’s customer and for an absent one', async () => {
    ddb.on(GetCommand).resolves({ Item: storedCustomer() });
    await expect(
      getCustomer(ctx, { role: 'reseller', resellerId: 'r2' }, 'c1'),
    ).rejects.toMatchObject({ status: 404 });
    ddb.on(GetCommand).resolves({});
    await expect(getCustomer(ctx, { role: 'admin' }, 'c1')).rejects.toMatchObject({ status: 404 });
  });
});

describe('patchCustomer', () => {
  const admin = { role: 'admin' } as const;

  it('is one UpdateItem of the customer carrying the new name, its sort key and If-Match', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: storedCustomer({ name: 'New', version: 5 }) });
    const { customer, etag } = await patchCustomer(
      ctx,
      { role: 'reseller', resellerId: 'r1' },
      'c1',
      { name: 'New' },
      parseIfMatch('"4"'),
    );
    expect(etag).toBe('"5"');
    expect(customer.name).toBe('New');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual(customerKey('c1'));
    expect(valuesIn(input)).toEqual(expect.arrayContaining(['New', 'new#c1', 4, 'r1', 'active']));
  });

  it('explains a failed condition from the old item: 404, then 409, then 412', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(
      patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch(undefined)),
    ).rejects.toMatchObject({
      status: 404,
    });
    ddb.on(UpdateCommand).rejects(conditionFailed(storedCustomer()));
    await expect(
      patchCustomer(
        ctx,
        { role: 'reseller', resellerId: 'r9' },
        'c1',
        { name: 'n' },
        parseIfMatch(undefined),
      ),
    ).rejects.toMatchObject({ status: 404 });
    ddb.on(UpdateCommand).rejects(conditionFailed(storedCustomer({ status: 'terminated' })));
    await expect(
      patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch('"1"')),
    ).rejects.toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
    ddb.on(UpdateCommand).rejects(conditionFailed(storedCustomer()));
    await expect(
      patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch('"1"')),
    ).rejects.toMatchObject({
      status: 412,
      code: 'precondition_failed',
    });
  });

  it('retries an update that met another request’s transaction, then succeeds', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new TransactionConflictException({ message: 'conflict', $metadata: {} }))
      .resolves({ Attributes: storedCustomer({ name: 'n', version: 5 }) });
    const { etag } = await patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch(undefined));
    expect(etag).toBe('"5"');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });

  it('answers 409 concurrent_update when the conflicts go on', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new TransactionConflictException({ message: 'conflict', $metadata: {} }));
    await expect(
      patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch(undefined)),
    ).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 5);
  });

  it('returns the stored customer, unchanged, when every guard held and nothing differed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(storedCustomer({ name: 'Acme' })));
    const { customer, etag } = await patchCustomer(
      ctx,
      admin,
      'c1',
      { name: 'Acme' },
      parseIfMatch('"4"'),
    );
    expect(customer.name).toBe('Acme');
    expect(etag).toBe('"4"');
  });

  it('lets other DynamoDB errors through as server faults', async () => {
    ddb.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(
      patchCustomer(ctx, admin, 'c1', { name: 'n' }, parseIfMatch(undefined)),
    ).rejects.toThrow('throttled');
  });
});

/**
 * Answers each shard's Query as DynamoDB would: the items of that partition, in key
 * order, from the start key on.
 */
function answerEachShard(items: Record<string, unknown>[]) {
  ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = Object.values(input.ExpressionAttributeValues ?? {});
    const after = String(input.ExclusiveStartKey?.nameSk ?? '');
    return {
      Items: items
        .filter((item) => values.includes(item.allPk) && String(item.nameSk) > after)
        .sort((a, b) => String(a.nameSk).localeCompare(String(b.nameSk)))
        .slice(0, input.Limit),
    };
  });
}

describe('listCustomers', () => {
  it('queries the reseller’s index with a lower-cased prefix and one extra item', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await listCustomers(ctx, { role: 'reseller', resellerId: 'r1' }, { q: 'AcMe', limit: 10 });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'byReseller', Limit: 11 });
    expect(valuesIn(ddb.commandCalls(QueryCommand)[0]?.args[0].input)).toEqual(
      expect.arrayContaining(['RESELLER#r1', 'acme']),
    );
  });

  it('lists the dropdown from the sparse main-offices index, the platform-wide one over every shard', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await listCustomers(ctx, { role: 'reseller', resellerId: 'r1' }, { office: 'main', limit: 5 });
    await listCustomers(ctx, { role: 'admin' }, { office: 'main', limit: 5 });
    expect(ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.IndexName)).toEqual([
      'mainOfficesByReseller',
      ...Array(customerListShardCount).fill('mainOffices'),
    ]);
  });

  it('merges the shards of the all-customers index by name, and goes on from the cursor in each', async () => {
    const items = ['d1', 'a1', 'c1', 'b1', 'e1'].map((id) =>
      customerItem(customerRecord(id, { name: `Name ${id}` })),
    );
    answerEachShard(items);
    const first = await listCustomers(ctx, { role: 'admin' }, { limit: 3 });
    expect(first.items.map((item) => item.id)).toEqual(['a1', 'b1', 'c1']);
    ddb.resetHistory();
    const second = await listCustomers(
      ctx,
      { role: 'admin' },
      { limit: 3, cursor: first.nextCursor ?? '' },
    );
    expect(second).toEqual({
      items: [expect.objectContaining({ id: 'd1' }), expect.objectContaining({ id: 'e1' })],
      nextCursor: null,
    });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, customerListShardCount);
  });

  it('reads the main offices of a page’s branches in one BatchGetItem, for their invoicing', async () => {
    answerEachShard([
      customerItem(branchOf('b1', 'hq')),
      customerItem(branchOf('b2', 'hq')),
      storedCustomer(),
    ]);
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        [ctx.db.tableName]: [
          customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
        ],
      },
    });
    const page = await listCustomers(ctx, { role: 'admin' }, { limit: 25 });
    expect(
      Object.fromEntries(
        page.items.map((item) => [item.id, item.additionalInfo.officeHierarchy.invoicing]),
      ),
    ).toEqual({ b1: 'consolidated', b2: 'consolidated', c1: 'individual' });
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('queries the all-customers index for an admin', async () => {
    answerEachShard([storedCustomer()]);
    const page = await listCustomers(ctx, { role: 'admin' }, { limit: 25 });
    expect(page).toEqual({ items: [expect.objectContaining({ id: 'c1' })], nextCursor: null });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'byName' });
  });

  it('gives a customer at most itself, filtered by the prefix', async () => {
    ddb.on(GetCommand).resolves({ Item: storedCustomer() });
    const caller = { role: 'customer', customerId: 'c1' } as const;
    expect((await listCustomers(ctx, caller, { limit: 25 })).items).toHaveLength(1);
    expect((await listCustomers(ctx, caller, { q: 'zz', limit: 25 })).items).toHaveLength(0);
    expect((await listCustomers(ctx, caller, { office: 'main', limit: 25 })).items).toHaveLength(0);
    expect((await listCustomers(ctx, caller, { limit: 25, cursor: 'x' })).items).toHaveLength(0);
  });
});
