import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Db } from './client.js';
import {
  type Condition,
  compileExpressions,
  type KeyCondition,
  type Path,
  type UpdateSpec,
} from './expressions.js';

/**
 * Every command the domain sends goes through here: reads, single writes and
 * transactions, built from write requests that carry their own condition and the
 * error that condition's failure means. Nothing else builds a command input.
 */
export interface Key {
  readonly pk: string;
  readonly sk: string;
}

export type Item = Record<string, unknown>;

/**
 * What a failed condition means, given the item as it was (undefined when absent):
 * the error to raise. A write without one treats a failed condition as a conflict
 * with a concurrent writer (`WriteConflict`): the caller reads again and retries.
 */
export type ConditionFailure = (current: Item | undefined) => Error;

interface WriteBase {
  readonly condition?: Condition;
  readonly onConditionFailed?: ConditionFailure;
}

export type WriteRequest =
  | (WriteBase & { readonly kind: 'put'; readonly item: Item & Key })
  | (WriteBase & { readonly kind: 'update'; readonly key: Key; readonly update: UpdateSpec })
  | (WriteBase & { readonly kind: 'delete'; readonly key: Key })
  | (WriteBase & {
      readonly kind: 'check';
      readonly key: Key;
      readonly condition: Condition;
    });

/**
 * Cancellation reasons a fresh attempt can change: no error, a failed condition (the
 * item changed), a concurrent transaction, or capacity (DynamoDB cancels a transaction
 * it cannot fit in a partition's throughput, and the SDK does not retry a cancellation).
 */
const retryableReasons = new Set<string | undefined>([
  undefined,
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** A transaction lost to a concurrent writer, or a condition without a declared meaning failed. */
export class WriteConflict extends Error {
  constructor(detail = 'A concurrent write changed an item this write was conditioned on') {
    super(detail);
    this.name = 'WriteConflict';
  }
}

/**
 * What every write's command input holds: the table, the compiled expressions and,
 * when `returnOld`, the item as it was on a failed condition.
 */
const writeBase = (tableName: string, request: WriteRequest, returnOld: boolean) => ({
  TableName: tableName,
  ...compileExpressions({
    condition: request.condition,
    update: request.kind === 'update' ? request.update : undefined,
  }),
  ...(returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
});

/** A write as a transaction item; the item as it was comes back only where a failure means something. */
function transactionItem(tableName: string, request: WriteRequest) {
  const base = writeBase(tableName, request, request.onConditionFailed !== undefined);
  switch (request.kind) {
    case 'put':
      return { Put: { ...base, Item: request.item } };
    case 'update':
      return { Update: { ...base, Key: request.key } };
    case 'delete':
      return { Delete: { ...base, Key: request.key } };
    case 'check':
      return { ConditionCheck: { ...base, Key: request.key } };
  }
}

export type WriteOutcome =
  | { readonly written: true; readonly item: Item | undefined }
  | { readonly written: false; readonly current: Item | undefined };

/**
 * One write in one round trip. A failed condition raises the request's declared
 * error; without one the outcome says so, with the item as it was, so the caller
 * decides (an idempotent "once" write, say, ignores it). `returnNew` answers the
 * updated item (UpdateItem's ALL_NEW).
 */
export async function writeItem(
  db: Db,
  request: WriteRequest,
  options: { readonly returnNew?: boolean } = {},
): Promise<WriteOutcome> {
  const base = writeBase(db.tableName, request, true);
  try {
    switch (request.kind) {
      case 'put':
        await db.client.send(new PutCommand({ ...base, Item: request.item }));
        return { written: true, item: request.item };
      case 'delete':
        await db.client.send(new DeleteCommand({ ...base, Key: request.key }));
        return { written: true, item: undefined };
      case 'update': {
        const { Attributes } = await db.client.send(
          new UpdateCommand({
            ...base,
            Key: request.key,
            ...(options.returnNew ? { ReturnValues: 'ALL_NEW' as const } : {}),
          }),
        );
        return { written: true, item: Attributes };
      }
      case 'check':
        throw new Error('A condition check needs a transaction');
    }
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = error.Item ? unmarshall(error.Item) : undefined;
    if (request.onConditionFailed) throw request.onConditionFailed(current);
    return { written: false, current };
  }
}

/**
 * All the writes or none, in one round trip. When the transaction is cancelled, the
 * first request (in the order given: list them in the order their errors should win)
 * whose condition failed raises its declared error with the item as it was; a
 * failure without a declared error, or a conflict with another transaction, raises
 * WriteConflict.
 */
export async function transact(db: Db, requests: readonly WriteRequest[]): Promise<void> {
  if (requests.length === 1 && requests[0]?.kind !== 'check') {
    await writeOrConflict(db, requests[0] as WriteRequest);
    return;
  }
  try {
    await db.client.send(
      new TransactWriteCommand({
        TransactItems: requests.map((request) => transactionItem(db.tableName, request)) as never,
      }),
    );
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const failed = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
    const declared = failed >= 0 ? requests[failed]?.onConditionFailed : undefined;
    if (declared) {
      const old = reasons[failed]?.Item;
      throw declared(old ? unmarshall(old as never) : undefined);
    }
    if (reasons.every((reason) => retryableReasons.has(reason.Code))) throw new WriteConflict();
    throw error;
  }
}

/**
 * All the writes or none, for a write whose conditions may each fail on their own (an
 * import of many numbers): answers the requests whose conditions failed, none when
 * everything was written, so the caller can send the rest again without them (the
 * cancellation names failed conditions per item; callers must not rely on it naming
 * every one). A conflict with another transaction, or throttling, raises WriteConflict.
 */
export async function transactReportingFailures(
  db: Db,
  requests: readonly WriteRequest[],
): Promise<WriteRequest[]> {
  try {
    await db.client.send(
      new TransactWriteCommand({
        TransactItems: requests.map((request) => transactionItem(db.tableName, request)) as never,
      }),
    );
    return [];
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    if (!reasons.every((reason) => retryableReasons.has(reason.Code))) throw error;
    const lost = reasons.some(
      (reason) =>
        reason.Code !== undefined && !['None', 'ConditionalCheckFailed'].includes(reason.Code),
    );
    // A conflict or throttling: the whole transaction again; its conditions were not all judged.
    if (lost) throw new WriteConflict();
    const failed = requests.filter((_, index) => reasons[index]?.Code === 'ConditionalCheckFailed');
    if (failed.length === 0) throw error;
    return failed;
  }
}

async function writeOrConflict(db: Db, request: WriteRequest): Promise<void> {
  const outcome = await writeItem(db, request);
  if (!outcome.written) throw new WriteConflict();
}

/** Strongly consistent read of one item. */
export async function getItem(db: Db, key: Key): Promise<Item | undefined> {
  const { Item } = await db.client.send(
    new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }),
  );
  return Item;
}

/** How `batchGetItems` names an item in its answer. */
export const itemId = (key: Key): string => `${key.pk}|${key.sk}`;

/**
 * Strongly consistent reads of up to 100 items in one round trip; the items come
 * back keyed by `itemId`. Unprocessed keys appear only under throttling, after the
 * SDK's own retries, and are asked for again.
 */
export async function batchGetItems(db: Db, keys: readonly Key[]): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let pending: Item[] = [...new Map(keys.map((key) => [itemId(key), { ...key }])).values()];
  while (pending.length > 0) {
    const { Responses, UnprocessedKeys } = await db.client.send(
      new BatchGetCommand({
        RequestItems: { [db.tableName]: { Keys: pending, ConsistentRead: true } },
      }),
    );
    for (const item of Responses?.[db.tableName] ?? []) {
      items.set(itemId({ pk: String(item.pk), sk: String(item.sk) }), item);
    }
    pending = UnprocessedKeys?.[db.tableName]?.Keys ?? [];
  }
  return items;
}

export interface QueryRequest {
  /** A global secondary index (eventually consistent), or the table itself. */
  readonly index?: string;
  readonly key: KeyCondition;
  readonly limit?: number;
  readonly startKey?: Record<string, unknown>;
  readonly projection?: readonly Path[];
  /** Sort-key order; false reads it descending. */
  readonly scanForward?: boolean;
}

/** One page of a query; strongly consistent on the table, as consistent as the index allows on one. */
export async function queryItems(
  db: Db,
  request: QueryRequest,
): Promise<{ items: Item[]; lastKey: Record<string, unknown> | undefined }> {
  const { Items = [], LastEvaluatedKey } = await db.client.send(
    new QueryCommand({
      TableName: db.tableName,
      ...(request.index ? { IndexName: request.index } : { ConsistentRead: true }),
      ...compileExpressions({ keyCondition: request.key, projection: request.projection }),
      Limit: request.limit,
      ExclusiveStartKey: request.startKey,
      ScanIndexForward: request.scanForward,
    }),
  );
  return { items: Items, lastKey: LastEvaluatedKey };
}
