import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTable,
  type Engine,
  startMoto,
  useLocalCredentials,
} from '../../infra/local/engine.js';

/**
 * The local engine applies the common updates (set scalars, add whole numbers, remove
 * attributes, all top-level) itself instead of through moto's expression walker. These
 * pin that it still answers as DynamoDB does, and leaves every other update to moto.
 */
let engine: Engine;
let client: DynamoDBClient;
const tableName = `updates-${randomBytes(3).toString('hex')}`;
const key = { pk: { S: 'CUSTOMER#u1' }, sk: { S: 'INVOICE#2026-11' } };
const beyondDoubles = '9007199254740993'; // 2^53 + 1: a float would lose the 3

const update = (input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>) =>
  client.send(new UpdateItemCommand({ TableName: tableName, Key: key, ...input }));
const stored = async () =>
  (await client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })))
    .Item;

beforeAll(async () => {
  useLocalCredentials();
  engine = await startMoto();
  client = new DynamoDBClient({ endpoint: engine.endpoint });
  await createTable(engine.endpoint, tableName);
});
afterAll(async () => {
  client?.destroy();
  await engine?.stop();
});
beforeEach(async () => {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { ...key, label: { S: 'start' }, count: { N: '1' }, note: { S: 'old' } },
    }),
  );
});

describe('the local engine applies simple updates as DynamoDB does', () => {
  it('creates the item, sets scalars, adds whole numbers exactly past 2^53 and removes attributes', async () => {
    const created = { pk: { S: 'CUSTOMER#u2' }, sk: { S: 'INVOICE#2026-11' } };
    const add = {
      UpdateExpression: 'SET #label = :label, #flag = :flag ADD #total :amount',
      ExpressionAttributeNames: { '#label': 'label', '#flag': 'flag', '#total': 'total' },
      ExpressionAttributeValues: {
        ':label': { S: 'new' },
        ':flag': { BOOL: true },
        ':amount': { N: beyondDoubles },
      },
    };
    await client.send(new UpdateItemCommand({ TableName: tableName, Key: created, ...add }));
    const answer = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: created,
        UpdateExpression: 'ADD #total :amount REMOVE #flag',
        ExpressionAttributeNames: { '#total': 'total', '#flag': 'flag' },
        ExpressionAttributeValues: { ':amount': { N: beyondDoubles } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(answer.Attributes).toEqual({
      ...created,
      label: { S: 'new' },
      total: { N: '18014398509481986' },
    });
  });

  it('refuses a failed condition, answers the item as it was, and changes nothing', async () => {
    const before = await stored();
    const refused = update({
      UpdateExpression: 'SET #note = :note ADD #count :one',
      ConditionExpression: 'attribute_not_exists(#note)',
      ExpressionAttributeNames: { '#note': 'note', '#count': 'count' },
      ExpressionAttributeValues: { ':note': { S: 'new' }, ':one': { N: '1' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(refused.catch((error) => error.Item)).resolves.toEqual(before);
    expect(await stored()).toEqual(before);
  });

  it('tells apart conditions that differ only in their values', async () => {
    const whenCountIs = (count: string) =>
      update({
        UpdateExpression: 'SET #note = :note',
        ConditionExpression: '#count = :count',
        ExpressionAttributeNames: { '#note': 'note', '#count': 'count' },
        ExpressionAttributeValues: { ':note': { S: `count was ${count}` }, ':count': { N: count } },
      }).then(
        () => 'updated',
        (error: Error) => error.name,
      );
    expect(await whenCountIs('1')).toBe('updated');
    expect(await whenCountIs('2')).toBe('ConditionalCheckFailedException');
    expect(await whenCountIs('1')).toBe('updated');
    expect((await stored())?.note).toEqual({ S: 'count was 1' });
  });

  it.each([
    ['an ADD to a string', 'ADD #label :one', { '#label': 'label' }, { ':one': { N: '1' } }],
    [
      'an ADD of a fraction to a whole number',
      'ADD #count :half',
      { '#count': 'count' },
      { ':half': { N: '0.5' } },
    ],
    ['a key attribute', 'SET #sk = :value', { '#sk': 'sk' }, { ':value': { S: 'OTHER' } }],
    [
      'one attribute twice',
      'SET #count = :five ADD #count :one',
      { '#count': 'count' },
      { ':five': { N: '5' }, ':one': { N: '1' } },
    ],
    [
      'an unknown value placeholder',
      'SET #note = :missing',
      { '#note': 'note' },
      { ':value': { S: 'x' } },
    ],
  ])(
    'leaves %s to moto, which refuses it or applies it as DynamoDB does',
    async (_case, expression, names, values) => {
      const before = await stored();
      const outcome = await update({
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }).then(
        (answer) => answer.Attributes,
        (error: Error) => error.name,
      );
      if (expression === 'ADD #count :half') {
        expect(outcome).toEqual({ ...before, count: { N: '1.5' } });
      } else {
        expect(outcome).toBe('ValidationException');
        expect(await stored()).toEqual(before);
      }
    },
  );

  it('puts a simple update back when its transaction is cancelled', async () => {
    const before = await stored();
    const cancelled = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET #note = :note ADD #count :one',
              ExpressionAttributeNames: { '#note': 'note', '#count': 'count' },
              ExpressionAttributeValues: { ':note': { S: 'new' }, ':one': { N: '1' } },
            },
          },
          {
            ConditionCheck: {
              TableName: tableName,
              Key: { pk: { S: 'CUSTOMER#absent' }, sk: { S: 'CUSTOMER' } },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await stored()).toEqual(before);
  });
});
