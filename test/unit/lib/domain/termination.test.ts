import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileEventFilter } from '../../../../infra/local/event-filter.js';
import { type CustomerRecord, customerItem } from '../../../../lib/data/customer-records.js';
import { parseIfMatch } from '../../../../lib/data/versioning.js';
import {
  type CascadeJob,
  cascadeLimits,
  continueCascade,
  onCustomerTerminated,
  resumeCascade,
  type TerminationEffect,
  terminateCustomer,
} from '../../../../lib/domain/termination.js';
import {
  handleTerminationRecord,
  terminationCascadeConsumer,
} from '../../../../lib/streams/termination-cascade.js';
import {
  branchOf,
  type CustomerShape,
  customer,
  mainOffice,
} from '../../../fixtures/customer-records.js';
import { conditionFailed, transactionConflict } from '../../../fixtures/dynamodb-errors.js';
import {
  admin,
  noIfMatch,
  now,
  resellerR1,
  tableName,
  unitContext,
} from '../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const ctx = unitContext;

const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const jobKey = (mainOfficeId: string) => ({
  pk: `CUSTOMER#${mainOfficeId}`,
  sk: 'TERMINATION_CASCADE',
});

/** A cascade job as stored: running, at the start of its first pass, unless told. */
const job = (mainOfficeId: string, fields: Partial<CascadeJob> = {}): CascadeJob => ({
  mainOfficeId,
  status: 'running',
  cursor: 'START',
  pass: 1,
  found: 0,
  terminatedCount: 0,
  ...fields,
});
const jobItem = (cascade: CascadeJob) => ({
  ...jobKey(cascade.mainOfficeId),
  entityType: 'terminationCascade',
  ...cascade,
});

/** The fields of a customer terminated on 2026-11-20, by request unless told. */
const terminated = (
  terminatedBy: NonNullable<CustomerRecord['terminatedBy']> = { reason: 'requested' },
): CustomerShape => ({
  status: 'terminated',
  terminatedAt: '2026-11-20T00:00:00.000Z',
  terminatedBy,
});
const byMainOffice = (mainOfficeId: string) =>
  terminated({ reason: 'main_office_terminated', mainOfficeId });

/**
 * A fake table behind GetItem and PutItem (with `attribute_not_exists(pk)`), keyed by
 * pk and sk. Updates of a job apply their SET under the cursor/pass condition; updates
 * of a customer succeed unless `refusals` holds an error for its id.
 */
let table: Map<string, Record<string, unknown>>;
let refusals: Map<string, Error>;

const slot = (key: Record<string, unknown> | undefined) => `${String(key?.pk)}|${String(key?.sk)}`;

function store(...items: Record<string, unknown>[]) {
  for (const item of items) table.set(slot(item), item);
}
const storeCustomers = (...records: CustomerRecord[]) => store(...records.map(customerItem));

function updateJob(input: UpdateCommandInput) {
  const current = table.get(slot(input.Key));
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  if (current?.cursor !== values[':cursorThen'] || current?.pass !== values[':passThen']) {
    throw conditionFailed();
  }
  const next = { ...current };
  for (const assignment of (input.UpdateExpression ?? '').replace(/^SET /, '').split(', ')) {
    const [name = '', value = ''] = assignment.split(' = ');
    next[names[name] ?? name] = values[value];
  }
  table.set(slot(input.Key), next);
  return {};
}

beforeEach(() => {
  ddb.reset();
  table = new Map();
  refusals = new Map();
  // Asynchronous, as the client's send is: the code under test chains .catch on it.
  ddb
    .on(GetCommand)
    .callsFake(async (input: GetCommandInput) => ({ Item: table.get(slot(input.Key)) }));
  ddb.on(PutCommand).callsFake(async (input: PutCommandInput) => {
    if (input.ConditionExpression === 'attribute_not_exists(pk)' && table.has(slot(input.Item))) {
      throw conditionFailed();
    }
    store(input.Item ?? {});
    return {};
  });
  ddb.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => {
    if (input.Key?.sk === 'TERMINATION_CASCADE') return updateJob(input);
    const refusal = refusals.get(String(input.Key?.pk).replace('CUSTOMER#', ''));
    if (refusal) throw refusal;
    return {};
  });
});

const writes = () =>
  ddb.commandCalls(PutCommand).length +
  ddb.commandCalls(UpdateCommand).length +
  ddb.commandCalls(TransactWriteCommand).length;

const updatesOf = (sk: string) =>
  ddb
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.Key?.sk === sk);
const branchUpdates = () => updatesOf('CUSTOMER');
const jobUpdates = () => updatesOf('TERMINATION_CASCADE');
const updatedBranchIds = () =>
  branchUpdates()
    .map((input) => String(input.Key?.pk).replace('CUSTOMER#', ''))
    .sort();

const storedJob = (mainOfficeId: string) => table.get(slot(jobKey(mainOfficeId)));

describe('terminateCustomer', () => {
  const terminatedC1 = (version = 5) =>
    customerItem(
      customer('c1', {
        status: 'terminated',
        terminatedAt: now,
        terminatedBy: { reason: 'requested' },
        updatedAt: now,
        version,
      }),
    );

  it('sends one conditional UpdateItem guarded by existence, status, reseller scope and If-Match', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: terminatedC1() });

    const { customer: answered, etag } = await terminateCustomer(
      ctx,
      resellerR1,
      'c1',
      parseIfMatch('"4"'),
    );

    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: tableName,
      Key: customerKey('c1'),
      UpdateExpression:
        'SET #status = :terminated, terminatedAt = :now, terminatedBy = :terminatedBy, ' +
        'updatedAt = :now, #version = #version + :one REMOVE mainOfficeAllPk, mainOfficeResellerPk',
      ConditionExpression:
        'attribute_exists(pk) AND #status = :active AND resellerId = :resellerId AND #version IN (:ifMatch0)',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: {
        ':active': 'active',
        ':terminated': 'terminated',
        ':terminatedBy': { reason: 'requested' },
        ':now': now,
        ':one': 1,
        ':resellerId': 'r1',
        ':ifMatch0': 4,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(etag).toBe('"5"');
    expect(answered).toMatchObject({
      id: 'c1',
      status: 'terminated',
      terminatedAt: now,
      terminatedBy: { reason: 'requested' },
    });
    expect(answered).not.toHaveProperty('pk');
  });

  it('guards an admin’s request without If-Match by existence and status alone', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: terminatedC1() });

    await terminateCustomer(ctx, admin, 'c1', noIfMatch);

    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_exists(pk) AND #status = :active');
    expect(input?.ExpressionAttributeValues).not.toHaveProperty(':resellerId');
    expect(input?.ExpressionAttributeValues).not.toHaveProperty(':ifMatch0');
  });

  it('answers an already terminated customer unchanged, from the old item, with no second write', async () => {
    const before = customer('c1', { ...terminated(), version: 7 });
    ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(before)));

    const { customer: answered, etag } = await terminateCustomer(
      ctx,
      resellerR1,
      'c1',
      parseIfMatch('"7"'),
    );

    expect(etag).toBe('"7"');
    expect(answered).toMatchObject({
      status: 'terminated',
      terminatedAt: '2026-11-20T00:00:00.000Z',
      terminatedBy: { reason: 'requested' },
    });
    expect(ddb.calls()).toHaveLength(1);
    expect(writes()).toBe(1);
  });

  it('answers a branch terminated by its main office unchanged, reading only the main office', async () => {
    storeCustomers(
      mainOffice('hq', {
        ...terminated(),
        hierarchy: { invoicing: 'consolidated', branchCount: 1 },
      }),
    );
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed(customerItem(branchOf('b1', 'hq', byMainOffice('hq')))));

    const { customer: answered } = await terminateCustomer(ctx, admin, 'b1', noIfMatch);

    expect(answered.terminatedBy).toEqual({ reason: 'main_office_terminated', mainOfficeId: 'hq' });
    expect(answered.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(writes()).toBe(1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('answers 404 for an absent customer and for one out of the reseller’s scope, terminated or not', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(terminateCustomer(ctx, admin, 'c1', noIfMatch)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });

    for (const foreign of [
      customer('c1', { resellerId: 'r2' }),
      customer('c1', { resellerId: 'r2', ...terminated() }),
    ]) {
      ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(foreign)));
      await expect(terminateCustomer(ctx, resellerR1, 'c1', noIfMatch)).rejects.toMatchObject({
        status: 404,
        code: 'not_found',
      });
    }
    expect(writes()).toBe(3);
  });

  it('answers 412 when only If-Match failed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(customer('c1', { version: 4 }))));

    await expect(
      terminateCustomer(ctx, resellerR1, 'c1', parseIfMatch('"3"')),
    ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
    expect(writes()).toBe(1);
  });

  it('retries an update that met another request’s transaction', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(transactionConflict())
      .resolves({ Attributes: terminatedC1() });

    const { etag } = await terminateCustomer(ctx, admin, 'c1', noIfMatch);

    expect(etag).toBe('"5"');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    const [first, second] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(second).toEqual(first);
  });

  it('answers 409 concurrent_update after five conflicts, and lets other errors through', async () => {
    ddb.on(UpdateCommand).rejects(transactionConflict());
    await expect(terminateCustomer(ctx, admin, 'c1', noIfMatch)).rejects.toMatchObject({
      status: 409,
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 5);

    ddb.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(terminateCustomer(ctx, admin, 'c1', noIfMatch)).rejects.toThrow('throttled');
  });
});

describe('onCustomerTerminated', () => {
  const noEffects: readonly TerminationEffect[] = [];
  /** An effect that notes the customer it ran for, and where in the sequence of calls. */
  const recordingEffect = () => {
    const ran: { id: string; version: number; callsBefore: number }[] = [];
    const effect: TerminationEffect = async (_ctx, record) => {
      ran.push({ id: record.id, version: record.version, callsBefore: ddb.calls().length });
    };
    return { effect, ran };
  };
  const runningJob = (mainOfficeId: string) => ({
    TableName: tableName,
    Item: jobItem(job(mainOfficeId)),
    ConditionExpression: 'attribute_not_exists(pk)',
  });

  it('does nothing, not even a read, for a customer that is no main office', async () => {
    await onCustomerTerminated(ctx, customer('c1', terminated()), noEffects);
    await onCustomerTerminated(ctx, branchOf('b1', 'hq', terminated()), noEffects);

    expect(ddb.calls()).toHaveLength(0);
  });

  it('runs each effect on the current item of any terminated customer, branch or not', async () => {
    const first = recordingEffect();
    const second = recordingEffect();
    storeCustomers(branchOf('b1', 'hq', { ...terminated(), version: 9 }));

    await onCustomerTerminated(ctx, branchOf('b1', 'hq', { ...terminated(), version: 8 }), [
      first.effect,
      second.effect,
    ]);

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: customerKey('b1'),
      ConsistentRead: true,
    });
    expect(first.ran).toEqual([{ id: 'b1', version: 9, callsBefore: 1 }]);
    expect(second.ran).toEqual([{ id: 'b1', version: 9, callsBefore: 1 }]);
    expect(writes()).toBe(0);
  });

  it('starts the cascade of a main office before running its effects, and runs none for a stale record', async () => {
    const { effect, ran } = recordingEffect();
    storeCustomers(mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 3 } }));
    storeCustomers(customer('c1'));

    await onCustomerTerminated(ctx, mainOffice('hq', terminated()), [effect]);
    await onCustomerTerminated(ctx, customer('c1', terminated()), [effect]);

    // The read of the main office and the put of its job come before the effect runs.
    expect(ran).toEqual([{ id: 'hq', version: 4, callsBefore: 2 }]);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb.calls()[1]?.args[0]).toBeInstanceOf(PutCommand);
  });

  it('reads the current main office and puts its cascade job once', async () => {
    const hq = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 3 } });
    storeCustomers(hq);

    await onCustomerTerminated(ctx, hq, noEffects);

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: tableName,
      Key: customerKey('hq'),
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual(runningJob('hq'));
  });

  it('swallows the failed condition of a duplicate record’s put, but not other errors', async () => {
    const hq = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 3 } });
    storeCustomers(hq);

    await onCustomerTerminated(ctx, hq, noEffects);
    await expect(onCustomerTerminated(ctx, hq, noEffects)).resolves.toBeUndefined();
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2);

    ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(onCustomerTerminated(ctx, hq, noEffects)).rejects.toThrow('throttled');
  });

  it('starts nothing when the current item is not terminated (a stale or phantom record) or absent', async () => {
    const image = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 3 } });
    storeCustomers(mainOffice('hq', { hierarchy: { branchCount: 3 } }));

    await onCustomerTerminated(ctx, image, noEffects);
    await onCustomerTerminated(ctx, mainOffice('absent', terminated()), noEffects);

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(writes()).toBe(0);
  });

  it('starts nothing for a main office without branches', async () => {
    const hq = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 0 } });
    storeCustomers(hq);
    await onCustomerTerminated(ctx, hq, noEffects);
    // An image that still counts a branch, unlinked before the termination: the current item decides.
    await onCustomerTerminated(
      ctx,
      mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 2 } }),
      noEffects,
    );

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(writes()).toBe(0);
  });
});

describe('continueCascade', () => {
  const hqWith = (branchCount: number) =>
    mainOffice('hq', { ...terminated(), hierarchy: { branchCount } });
  const row = (id: string, status: 'active' | 'terminated' = 'active') => ({ id, status });
  /** The key DynamoDB returns after a row of the branch index. */
  const keyAfter = (id: string) => ({
    pk: `CUSTOMER#${id}`,
    sk: 'CUSTOMER',
    mainOfficePk: 'BRANCHES#hq',
    nameSk: `customer ${id}#${id}`,
  });
  /** The pages the branch index answers, one query after another. */
  const pages = (...outputs: Partial<QueryCommandOutput>[]) => {
    const behaviour = ddb.on(QueryCommand);
    for (const output of outputs) behaviour.resolvesOnce(output);
  };
  const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);

  it.each([
    ['the cursor moved on', job('hq', { cursor: JSON.stringify(keyAfter('b5')) })],
    ['another pass began', job('hq', { pass: 2 })],
    ['the job is done', job('hq', { status: 'done' })],
  ])('does no query and no write for a stale record: %s', async (_label, current) => {
    store(jobItem(current));
    storeCustomers(hqWith(2));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, job('hq'));

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: tableName,
      Key: jobKey('hq'),
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 0);
    expect(writes()).toBe(0);
  });

  it('does no query and no write when the job does not exist', async () => {
    await continueCascade(ctx, job('hq'));

    expect(ddb.calls()).toHaveLength(1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('queries the branch index from the start with one page’s limit and terminates the active branches', async () => {
    store(jobItem(job('hq')));
    storeCustomers(hqWith(2));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, job('hq'));

    expect(queries()).toEqual([
      {
        TableName: tableName,
        IndexName: 'branchesByMainOffice',
        KeyConditionExpression: 'mainOfficePk = :pk',
        ExpressionAttributeValues: { ':pk': 'BRANCHES#hq' },
        ProjectionExpression: 'id, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        Limit: cascadeLimits.pageSize,
        ExclusiveStartKey: undefined,
      },
    ]);
    expect(updatedBranchIds()).toEqual(['b1', 'b2']);
    expect(branchUpdates().find((input) => input.Key?.pk === 'CUSTOMER#b1')).toEqual({
      TableName: tableName,
      Key: customerKey('b1'),
      UpdateExpression:
        'SET #status = :terminated, terminatedAt = :now, terminatedBy = :terminatedBy, updatedAt = :now, ' +
        '#version = #version + :one',
      ConditionExpression:
        '#status = :active AND #info.#hierarchy.#office = :branch AND #info.#hierarchy.#mainOfficeId = :mainOfficeId',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#version': 'version',
        '#info': 'additionalInfo',
        '#hierarchy': 'officeHierarchy',
        '#office': 'office',
        '#mainOfficeId': 'mainOfficeId',
      },
      ExpressionAttributeValues: {
        ':terminated': 'terminated',
        ':active': 'active',
        ':branch': 'branch',
        ':mainOfficeId': 'hq',
        ':terminatedBy': { reason: 'main_office_terminated', mainOfficeId: 'hq' },
        ':now': now,
        ':one': 1,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('counts branches the index shows terminated as found, without writing them', async () => {
    store(jobItem(job('hq')));
    storeCustomers(hqWith(3));
    pages({ Items: [row('b1', 'terminated'), row('b2'), row('b3', 'terminated')] });

    await continueCascade(ctx, job('hq'));

    expect(updatedBranchIds()).toEqual(['b2']);
    expect(storedJob('hq')).toMatchObject({ status: 'done', found: 3, terminatedCount: 1 });
  });

  it('counts a branch terminated meanwhile as found, and one that moved away not at all', async () => {
    store(jobItem(job('hq')));
    storeCustomers(hqWith(2));
    refusals.set('b1', conditionFailed(customerItem(branchOf('b1', 'other'))));
    refusals.set('b2', conditionFailed(customerItem(branchOf('b2', 'hq', terminated()))));
    refusals.set('b3', conditionFailed(customerItem(branchOf('b3', 'other', terminated()))));
    refusals.set('b4', conditionFailed(customerItem(mainOffice('b4'))));
    refusals.set('b5', conditionFailed());
    pages({ Items: ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((id) => row(id)) });

    await continueCascade(ctx, job('hq'));

    // b2 (already) and b6 (terminated) are found: 2 of 2, the pass is complete.
    expect(updatedBranchIds()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    expect(storedJob('hq')).toMatchObject({ status: 'done', found: 2, terminatedCount: 1 });
  });

  it('hands over to the next chunk after chunkSize branches, with the JSON cursor, conditioned on where it started', async () => {
    const pageCount = Math.ceil(cascadeLimits.chunkSize / cascadeLimits.pageSize);
    const started = job('hq', {
      cursor: JSON.stringify(keyAfter('a0')),
      pass: 2,
      found: 40,
      terminatedCount: 30,
    });
    store(jobItem(started));
    storeCustomers(hqWith(5000));
    // Each page holds one active branch and the rest already terminated; one more page waits.
    const pageRows = (page: number) =>
      Array.from({ length: cascadeLimits.pageSize }, (_, index) =>
        row(`p${page}r${index}`, index === 0 ? 'active' : 'terminated'),
      );
    pages(
      ...Array.from({ length: pageCount + 1 }, (_, page) => ({
        Items: pageRows(page),
        LastEvaluatedKey: keyAfter(`p${page}`),
      })),
    );

    await continueCascade(ctx, started);

    expect(queries().map((input) => input.ExclusiveStartKey)).toEqual([
      keyAfter('a0'),
      ...Array.from({ length: pageCount - 1 }, (_, page) => keyAfter(`p${page}`)),
    ]);
    expect(updatedBranchIds()).toHaveLength(pageCount);
    // The pass is not over: the main office's count is not read yet.
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    const handled = pageCount * cascadeLimits.pageSize;
    expect(jobUpdates()).toEqual([
      {
        TableName: tableName,
        Key: jobKey('hq'),
        UpdateExpression:
          'SET #found = :found, #terminatedCount = :terminatedCount, #cursor = :cursor',
        ConditionExpression: '#cursorNow = :cursorThen AND #passNow = :passThen',
        ExpressionAttributeNames: {
          '#found': 'found',
          '#terminatedCount': 'terminatedCount',
          '#cursor': 'cursor',
          '#cursorNow': 'cursor',
          '#passNow': 'pass',
        },
        ExpressionAttributeValues: {
          ':found': 40 + handled,
          ':terminatedCount': 30 + pageCount,
          ':cursor': JSON.stringify(keyAfter(`p${pageCount - 1}`)),
          ':cursorThen': started.cursor,
          ':passThen': 2,
        },
      },
    ]);
  });

  it('finishes the job at the end of a pass that found every branch the main office counts', async () => {
    const started = job('hq', { cursor: JSON.stringify(keyAfter('a0')), found: 1000 });
    store(jobItem(started));
    storeCustomers(hqWith(1002));
    pages({ Items: [row('b1'), row('b2', 'terminated')] });

    await continueCascade(ctx, started);

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: customerKey('hq'),
      ConsistentRead: true,
    });
    expect(jobUpdates()).toHaveLength(1);
    expect(jobUpdates()[0]).toMatchObject({
      UpdateExpression:
        'SET #found = :found, #terminatedCount = :terminatedCount, #status = :status',
      ConditionExpression: '#cursorNow = :cursorThen AND #passNow = :passThen',
      ExpressionAttributeValues: {
        ':found': 1002,
        ':terminatedCount': 1,
        ':status': 'done',
        ':cursorThen': started.cursor,
        ':passThen': 1,
      },
    });
    expect(storedJob('hq')).toMatchObject({ status: 'done', found: 1002, cursor: started.cursor });
  });

  it('starts another pass when the index lags behind a link: fewer found than counted', async () => {
    // The last chunk of the first pass, which found 1000 branches before this one.
    const lastChunk = job('hq', {
      cursor: JSON.stringify(keyAfter('a0')),
      found: 1000,
      terminatedCount: 7,
    });
    store(jobItem(lastChunk));
    storeCustomers(hqWith(1003));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, lastChunk);

    expect(jobUpdates()[0]?.UpdateExpression).toBe(
      'SET #found = :found, #terminatedCount = :terminatedCount, #cursor = :cursor, #pass = :pass',
    );
    expect(jobUpdates()[0]?.ExpressionAttributeValues).toEqual({
      ':found': 0,
      ':terminatedCount': 9,
      ':cursor': 'START',
      ':pass': 2,
      ':cursorThen': lastChunk.cursor,
      ':passThen': 1,
    });
    expect(storedJob('hq')).toMatchObject({
      status: 'running',
      cursor: 'START',
      pass: 2,
      found: 0,
      terminatedCount: 9,
    });
  });

  it('throws after maxPasses passes that found too few, leaving the job as it was', async () => {
    const last = job('hq', { pass: cascadeLimits.maxPasses });
    store(jobItem(last));
    storeCustomers(hqWith(3));
    pages({ Items: [row('b1'), row('b2')] });

    await expect(continueCascade(ctx, last)).rejects.toThrow(
      `pass ${cascadeLimits.maxPasses} found 2 of 3 branches`,
    );
    expect(jobUpdates()).toHaveLength(0);
    expect(storedJob('hq')).toEqual(jobItem(last));
  });

  it('fails the chunk on an error other than a condition, without advancing the job', async () => {
    store(jobItem(job('hq')));
    storeCustomers(hqWith(2));
    refusals.set('b2', new Error('throttled'));
    pages({ Items: [row('b1'), row('b2')] });

    await expect(continueCascade(ctx, job('hq'))).rejects.toThrow('throttled');
    expect(jobUpdates()).toHaveLength(0);
  });

  it('advances once for a chunk delivered twice at the same time, and not at all after', async () => {
    store(jobItem(job('hq')));
    storeCustomers(hqWith(3));
    // Both deliveries read the job before either hands over: the index answers once both asked.
    let asked = 0;
    let answer = () => {};
    const bothAsked = new Promise<void>((resolve) => {
      answer = resolve;
    });
    ddb.on(QueryCommand).callsFake(async () => {
      asked += 1;
      if (asked === 2) answer();
      await bothAsked;
      return { Items: [row('b1'), row('b2')] };
    });

    await Promise.all([continueCascade(ctx, job('hq')), continueCascade(ctx, job('hq'))]);

    // Two found of three: each delivery starts pass 2, and the second one's condition fails.
    expect(jobUpdates()).toHaveLength(2);
    expect(storedJob('hq')).toMatchObject({ status: 'running', pass: 2, cursor: 'START' });

    // A third delivery of the first pass's record is now stale.
    await continueCascade(ctx, job('hq'));
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
  });
});

describe('resumeCascade', () => {
  it.each([
    ['an active main office', mainOffice('hq', { hierarchy: { branchCount: 2 } })],
    ['a terminated customer that is no main office', customer('hq', terminated())],
    ['a terminated branch', branchOf('hq', 'top', terminated())],
  ])('answers no_cascade for %s, reading nothing more', async (_label, record) => {
    storeCustomers(record);
    store(jobItem(job('hq')));

    await expect(resumeCascade(ctx, 'hq')).resolves.toBe('no_cascade');
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers no_cascade for an absent customer', async () => {
    await expect(resumeCascade(ctx, 'hq')).resolves.toBe('no_cascade');
    expect(writes()).toBe(0);
  });

  it('nudges a running job with resumedAt, keeping its cursor and pass', async () => {
    const running = job('hq', { cursor: JSON.stringify({ pk: 'x' }), pass: 3, found: 12 });
    storeCustomers(mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 20 } }));
    store(jobItem(running));

    const resumed = await resumeCascade(ctx, 'hq');

    expect(resumed).toEqual({ ...running, resumedAt: now });
    expect(jobUpdates()).toEqual([
      {
        TableName: tableName,
        Key: jobKey('hq'),
        UpdateExpression: 'SET #resumedAt = :resumedAt',
        ConditionExpression: '#cursorNow = :cursorThen AND #passNow = :passThen',
        ExpressionAttributeNames: {
          '#resumedAt': 'resumedAt',
          '#cursorNow': 'cursor',
          '#passNow': 'pass',
        },
        ExpressionAttributeValues: {
          ':resumedAt': now,
          ':cursorThen': running.cursor,
          ':passThen': 3,
        },
      },
    ]);
  });

  it('restarts a done job with a new pass from the start', async () => {
    const done = job('hq', {
      status: 'done',
      cursor: JSON.stringify({ pk: 'x' }),
      pass: 2,
      found: 20,
      terminatedCount: 18,
    });
    storeCustomers(mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 20 } }));
    store(jobItem(done));

    const resumed = await resumeCascade(ctx, 'hq');

    expect(resumed).toEqual({
      mainOfficeId: 'hq',
      status: 'running',
      cursor: 'START',
      pass: 3,
      found: 0,
      terminatedCount: 18,
    });
    expect(jobUpdates()[0]?.ExpressionAttributeValues).toMatchObject({
      ':cursorThen': done.cursor,
      ':passThen': 2,
    });
  });

  it('starts the job of a terminated main office that has none', async () => {
    storeCustomers(mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 2 } }));

    await expect(resumeCascade(ctx, 'hq')).resolves.toEqual(job('hq'));
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });
});

describe('the termination stream consumer', () => {
  type Image = Record<string, unknown>;
  /** A record as Lambda delivers it from the table's stream. */
  const streamRecord = (
    eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
    images: { newImage?: Image; oldImage?: Image },
  ): DynamoDBRecord => {
    const image = (item: Image | undefined) =>
      item
        ? (marshall(item, { removeUndefinedValues: true }) as NonNullable<
            DynamoDBRecord['dynamodb']
          >['NewImage'])
        : undefined;
    const keys = images.newImage ?? images.oldImage ?? {};
    return {
      eventID: '1',
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        Keys: image({ pk: keys.pk, sk: keys.sk }),
        NewImage: image(images.newImage),
        OldImage: image(images.oldImage),
        SequenceNumber: '100',
        SizeBytes: 100,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  };

  const hqActive = mainOffice('hq', { hierarchy: { branchCount: 2 } });
  const hqTerminated = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 2 } });
  const customerTerminating = streamRecord('MODIFY', {
    oldImage: customerItem(hqActive),
    newImage: customerItem(hqTerminated),
  });

  describe('handleTerminationRecord', () => {
    it('sends a customer’s image to the termination of a customer', async () => {
      storeCustomers(hqTerminated);

      await handleTerminationRecord(ctx, customerTerminating);

      expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: customerKey('hq') });
      expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject(jobKey('hq'));
    });

    it('sends a job’s image to the next chunk of its cascade', async () => {
      store(jobItem(job('hq', { status: 'done' })));

      await handleTerminationRecord(
        ctx,
        streamRecord('MODIFY', { newImage: jobItem(job('hq', { resumedAt: now })) }),
      );

      expect(ddb.calls()).toHaveLength(1);
      expect(ddb).toHaveReceivedCommandWith(GetCommand, {
        Key: jobKey('hq'),
        ConsistentRead: true,
      });
    });

    it('does nothing for a record without a new image or of another entity', async () => {
      await handleTerminationRecord(
        ctx,
        streamRecord('REMOVE', { oldImage: customerItem(hqTerminated) }),
      );
      await handleTerminationRecord(
        ctx,
        streamRecord('INSERT', {
          newImage: { pk: 'IDEMPOTENCY#x', sk: 'IDEMPOTENCY', entityType: 'idempotencyRecord' },
        }),
      );

      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('filter patterns', () => {
    const passes = compileEventFilter(terminationCascadeConsumer.filterPatterns);
    const modify = (oldImage: Image, newImage: Image) =>
      streamRecord('MODIFY', { oldImage, newImage });

    it.each([
      ['a main office becoming terminated', customerTerminating],
      [
        'a branch terminated by its main office',
        modify(
          customerItem(branchOf('b1', 'hq')),
          customerItem(branchOf('b1', 'hq', byMainOffice('hq'))),
        ),
      ],
      ['a new running job', streamRecord('INSERT', { newImage: jobItem(job('hq')) })],
      [
        'a job handed over to its next chunk',
        modify(jobItem(job('hq')), jobItem(job('hq', { cursor: '{"pk":"x"}' }))),
      ],
    ])('accepts %s', (_label, record) => {
      expect(passes(record)).toBe(true);
    });

    it.each([
      [
        'a customer that stays active',
        modify(customerItem(hqActive), customerItem({ ...hqActive, name: 'Renamed', version: 5 })),
      ],
      [
        'a customer already terminated',
        modify(customerItem(hqTerminated), customerItem({ ...hqTerminated, version: 6 })),
      ],
      ['a new customer', streamRecord('INSERT', { newImage: customerItem(hqActive) })],
      ['a job that is done', modify(jobItem(job('hq')), jobItem(job('hq', { status: 'done' })))],
    ])('rejects %s', (_label, record) => {
      expect(passes(record)).toBe(false);
    });
  });
});
