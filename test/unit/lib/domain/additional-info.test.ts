import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CustomerRecord, customerItem } from '../../../../lib/data/customer-records.js';
import { pbxRegistryKey } from '../../../../lib/data/keys.js';
import { parseIfMatch } from '../../../../lib/data/versioning.js';
import { listBranches, patchAdditionalInfo } from '../../../../lib/domain/additional-info.js';
import { branchOf, customer, mainOffice } from '../../../fixtures/customer-records.js';
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

/** A fake table behind BatchGetItem and GetItem, keyed by pk; writes are only recorded by the mock. */
let table: Map<string, Record<string, unknown>>;

function store(...records: CustomerRecord[]) {
  for (const record of records) table.set(`CUSTOMER#${record.id}`, customerItem(record));
}

const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });

beforeEach(() => {
  ddb.reset();
  table = new Map();
  ddb.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.[tableName]?.Keys ?? [];
    const items = keys.flatMap((key) => table.get(String(key.pk)) ?? []);
    return { Responses: { [tableName]: items } };
  });
  ddb.on(GetCommand).callsFake((input: GetCommandInput) => ({
    Item: table.get(String(input.Key?.pk)),
  }));
  ddb.on(PutCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
});

const cancelled = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });

const writes = () =>
  ddb.commandCalls(PutCommand).length +
  ddb.commandCalls(UpdateCommand).length +
  ddb.commandCalls(TransactWriteCommand).length;

const transactItems = (call = 0) =>
  ddb.commandCalls(TransactWriteCommand)[call]?.args[0].input.TransactItems ?? [];

/** The guarded increment of a main office that gains a branch. */
const joinUpdate = (mainOfficeId: string, otherCurrency: boolean) => ({
  TableName: tableName,
  Key: customerKey(mainOfficeId),
  UpdateExpression:
    'SET #info.#hierarchy.#branchCount = #info.#hierarchy.#branchCount + :delta, ' +
    'otherCurrencyBranchCount = if_not_exists(otherCurrencyBranchCount, :zero) + :otherDelta, ' +
    '#version = #version + :one, updatedAt = :now',
  ConditionExpression: [
    '#status = :active',
    '#info.#hierarchy.#enabled = :true',
    '#info.#hierarchy.#office = :main',
    ...(otherCurrency ? ['#info.#hierarchy.#invoicing = :individual'] : []),
  ].join(' AND '),
  ExpressionAttributeNames: {
    '#info': 'additionalInfo',
    '#hierarchy': 'officeHierarchy',
    '#branchCount': 'branchCount',
    '#version': 'version',
    '#status': 'status',
    '#enabled': 'enabled',
    '#office': 'office',
    ...(otherCurrency ? { '#invoicing': 'invoicing' } : {}),
  },
  ExpressionAttributeValues: {
    ':delta': 1,
    ':otherDelta': otherCurrency ? 1 : 0,
    ':zero': 0,
    ':one': 1,
    ':now': now,
    ':active': 'active',
    ':true': true,
    ':main': 'main',
    ...(otherCurrency ? { ':individual': 'individual' } : {}),
  },
});

/** The guarded decrement of a main office that loses a branch. */
const leaveUpdate = (mainOfficeId: string, otherCurrency: boolean) => ({
  TableName: tableName,
  Key: customerKey(mainOfficeId),
  UpdateExpression:
    'SET #info.#hierarchy.#branchCount = #info.#hierarchy.#branchCount + :delta, ' +
    'otherCurrencyBranchCount = if_not_exists(otherCurrencyBranchCount, :zero) + :otherDelta, ' +
    '#version = #version + :one, updatedAt = :now',
  ConditionExpression: [
    '#status = :active',
    '#info.#hierarchy.#branchCount >= :one',
    ...(otherCurrency ? ['otherCurrencyBranchCount >= :one'] : []),
  ].join(' AND '),
  ExpressionAttributeNames: {
    '#info': 'additionalInfo',
    '#hierarchy': 'officeHierarchy',
    '#branchCount': 'branchCount',
    '#version': 'version',
    '#status': 'status',
  },
  ExpressionAttributeValues: {
    ':delta': -1,
    ':otherDelta': otherCurrency ? -1 : 0,
    ':zero': 0,
    ':one': 1,
    ':now': now,
    ':active': 'active',
  },
});

/** The customer's PBX registry in a link change with no numbers to move: guarded by the revision read (none). */
const registryRevisionGuard = (customerId: string, change: string) => ({
  TableName: tableName,
  Key: pbxRegistryKey(customerId),
  UpdateExpression: `SET revision = if_not_exists(revision, :zero) + :one ${change}`,
  ConditionExpression: 'attribute_not_exists(revision)',
  ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
});

/** The put of the customer's next state, conditioned on the version that was read. */
const versionedPut = (next: CustomerRecord, readVersion: number) => ({
  TableName: tableName,
  Item: customerItem(next),
  ConditionExpression: '#version = :read',
  ExpressionAttributeNames: { '#version': 'version' },
  ExpressionAttributeValues: { ':read': readVersion },
});

describe('patchAdditionalInfo: the customer’s own settings', () => {
  it('changes aliasAuthDefault with one guarded UpdateItem and no read', async () => {
    const updated = customer('c1', { version: 5 });
    updated.additionalInfo.aliasAuthDefault = 'disabled';
    ddb.on(UpdateCommand).resolves({ Attributes: customerItem(updated) });

    const panel = await patchAdditionalInfo(
      ctx,
      resellerR1,
      'c1',
      { aliasAuthDefault: 'disabled' },
      parseIfMatch('"4"'),
    );

    expect(panel).toEqual({ additionalInfo: updated.additionalInfo, etag: '"5"' });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: tableName,
      Key: customerKey('c1'),
      ConditionExpression:
        'attribute_exists(pk) AND #status = :active AND resellerId = :resellerId AND #version IN (:ifMatch0)' +
        ' AND (#additionalInfo.#aliasAuthDefault <> :set0)',
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(input?.UpdateExpression).toBe(
      'SET updatedAt = :now, #version = #version + :one, ' +
        '#additionalInfo.#aliasAuthDefault = :set0',
    );
    expect(input?.ExpressionAttributeValues).toEqual({
      ':active': 'active',
      ':one': 1,
      ':now': now,
      ':resellerId': 'r1',
      ':ifMatch0': 4,
      ':set0': 'disabled',
    });
  });

  it('disables auto-provisioning with one UpdateItem that leaves batchId alone', async () => {
    const updated = customer('c1', { version: 5, did: { enabled: false, batchId: 'b1' } });
    ddb.on(UpdateCommand).resolves({ Attributes: customerItem(updated) });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: false } },
      noIfMatch,
    );

    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: false, batchId: 'b1' });
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 0);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      'attribute_exists(pk) AND #status = :active AND (#additionalInfo.#didAutoProvisioning.#enabled <> :set0)',
    );
    expect(input?.UpdateExpression).toBe(
      'SET updatedAt = :now, #version = #version + :one, ' +
        '#additionalInfo.#didAutoProvisioning.#enabled = :set0',
    );
    expect(input?.ExpressionAttributeValues?.[':set0']).toBe(false);
    expect(JSON.stringify(input)).not.toContain('batchId');
  });

  it('reads the main office after the update of a branch, to show its invoicing', async () => {
    const updated = branchOf('c1', 'hq', { version: 5 });
    ddb.on(UpdateCommand).resolves({ Attributes: customerItem(updated) });
    store(mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { aliasAuthDefault: 'enabled' },
      noIfMatch,
    );

    expect(panel.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: customerKey('hq'),
      ConsistentRead: true,
    });
  });
});

describe('patchAdditionalInfo: changes of the hierarchy', () => {
  it('links a branch of another currency: one consistent BatchGetItem, then one transaction', async () => {
    const current = customer('c1', { version: 4 });
    const hq = mainOffice('hq', { currency: 'USD', version: 9, hierarchy: { branchCount: 2 } });
    store(current, hq);

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input).toEqual({
      RequestItems: {
        [tableName]: {
          Keys: [customerKey('c1'), customerKey('hq'), pbxRegistryKey('c1'), pbxRegistryKey('hq')],
          ConsistentRead: true,
        },
      },
    });
    const next = branchOf('c1', 'hq', {
      version: 5,
      updatedAt: now,
      linkedWithOtherCurrency: true,
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(transactItems()).toEqual([
      { Put: versionedPut(next, 4) },
      { Update: joinUpdate('hq', true) },
      { Update: registryRevisionGuard('c1', 'REMOVE reserved') },
    ]);
    expect(transactItems()[0]?.Put?.Item).toMatchObject({ mainOfficePk: 'BRANCHES#hq' });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"5"' });
  });

  it('links a branch of the same currency without the invoicing condition', async () => {
    store(
      customer('c1'),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
      noIfMatch,
    );

    expect(transactItems()[1]).toEqual({ Update: joinUpdate('hq', false) });
    expect(transactItems()[0]?.Put?.Item).toMatchObject({ linkedWithOtherCurrency: false });
    // The branch shows its main office’s invoicing.
    expect(panel.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
      branchCount: 0,
    });
  });

  it('unlinks by becoming a main office: decrements the old main office, guarded by its count', async () => {
    store(
      branchOf('c1', 'hq', { version: 6, linkedWithOtherCurrency: true }),
      mainOffice('hq', {
        currency: 'USD',
        otherCurrencyBranchCount: 1,
        hierarchy: { branchCount: 1 },
      }),
    );

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { office: 'main' } },
      noIfMatch,
    );

    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems).toEqual({
      [tableName]: { Keys: [customerKey('c1'), pbxRegistryKey('c1')], ConsistentRead: true },
    });
    const next = mainOffice('c1', { version: 7, updatedAt: now });
    expect(transactItems()).toEqual([
      { Put: versionedPut(next, 6) },
      { Update: leaveUpdate('hq', true) },
      { Update: registryRevisionGuard('c1', 'REMOVE reserved') },
    ]);
    expect(transactItems()[0]?.Put?.Item).toMatchObject({ mainOfficeAllPk: 'MAIN_OFFICES' });
    expect(transactItems()[0]?.Put?.Item).not.toHaveProperty('mainOfficePk');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"7"' });
  });

  it('unlinks by disabling the hierarchy: same-currency decrement of the old main office', async () => {
    store(branchOf('c1', 'hq'), mainOffice('hq', { hierarchy: { branchCount: 3 } }));

    await patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch);

    expect(transactItems()).toHaveLength(3);
    expect(transactItems()[1]).toEqual({ Update: leaveUpdate('hq', false) });
  });

  it('moves a branch in one transaction: joins the new main office, leaves the old one', async () => {
    store(
      branchOf('c1', 'old', { linkedWithOtherCurrency: true }),
      mainOffice('old', { currency: 'USD', hierarchy: { branchCount: 1 } }),
      mainOffice('new', { hierarchy: { branchCount: 0 } }),
    );

    await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { mainOfficeId: 'new' } },
      noIfMatch,
    );

    const next = branchOf('c1', 'new', { version: 5, updatedAt: now });
    expect(transactItems()).toEqual([
      { Put: versionedPut(next, 4) },
      { Update: joinUpdate('new', false) },
      { Update: leaveUpdate('old', true) },
      { Update: registryRevisionGuard('c1', 'REMOVE reserved') },
    ]);
  });

  it('puts a change without a link alone, conditioned on the version read', async () => {
    store(mainOffice('c1', { version: 8, hierarchy: { branchCount: 2 } }));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { invoicing: 'consolidated' } },
      parseIfMatch('"8"'),
    );

    const next = mainOffice('c1', {
      version: 9,
      updatedAt: now,
      hierarchy: { branchCount: 2, invoicing: 'consolidated' },
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual(versionedPut(next, 8));
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"9"' });
  });

  it('writes nothing for a patch that leaves the state as it is', async () => {
    store(
      branchOf('c1', 'hq', { version: 4 }),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
      noIfMatch,
    );

    expect(writes()).toBe(0);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(panel.etag).toBe('"4"');
    expect(panel.additionalInfo.officeHierarchy).toMatchObject({
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
    });
  });

  // KNOWN BUG (reported, not fixed): on the no-op path patchAdditionalInfo returns
  // panelOf(current, facts.currentMainOffice), and facts.currentMainOffice is only read when the
  // patch names the current main office. A branch's no-op patch that does not name it (here
  // re-sending `enabled: true`) answers the stored 'individual' instead of its HQ's invoicing,
  // contradicting GET and SPEC §4 ("A branch shows its HQ's invoicing").
  it('shows the main office’s invoicing on a no-op patch of a branch that does not name it', async () => {
    store(
      branchOf('c1', 'hq', { version: 4 }),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: true } },
      noIfMatch,
    );

    expect(writes()).toBe(0);
    expect(panel.etag).toBe('"4"');
    expect(panel.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
  });

  it('reads again and writes again after a cancelled transaction, conditioned on the fresh version', async () => {
    store(customer('c1', { version: 4 }), mainOffice('hq', { version: 2 }));
    ddb.on(TransactWriteCommand).callsFakeOnce(() => {
      // Someone else wrote the customer in between.
      store(customer('c1', { version: 5 }), mainOffice('hq', { version: 2 }));
      throw cancelled();
    });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(transactItems(0)[0]?.Put?.ConditionExpression).toBe('#version = :read');
    expect(transactItems(0)[0]?.Put?.ExpressionAttributeValues).toEqual({ ':read': 4 });
    expect(transactItems(1)[0]?.Put?.ExpressionAttributeValues).toEqual({ ':read': 5 });
    expect(transactItems(1)[0]?.Put?.Item).toMatchObject({ version: 6 });
    expect(panel.etag).toBe('"6"');
  });

  it('retries a put whose version condition failed', async () => {
    store(mainOffice('c1', { version: 4 }));
    ddb.on(PutCommand).callsFakeOnce(() => {
      store(mainOffice('c1', { version: 5 }));
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      });
    });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { invoicing: 'consolidated' } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2);
    expect(ddb.commandCalls(PutCommand)[1]?.args[0].input.ExpressionAttributeValues).toEqual({
      ':read': 5,
    });
    expect(panel.etag).toBe('"6"');
  });

  it('answers the rule that holds on the fresh read after a conflict, writing nothing more', async () => {
    store(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).callsFakeOnce(() => {
      store(mainOffice('hq', { status: 'terminated', version: 5 }));
      throw cancelled();
    });

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('gives up with 409 concurrent_update after ten conflicts', async () => {
    store(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejects(cancelled());

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 409, code: 'concurrent_update' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 10);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 10);
  });

  it('lets other errors of the write through without retrying', async () => {
    store(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejects(new Error('throttled'));

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toThrow('throttled');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('writes nothing when a rule is violated', async () => {
    store(
      mainOffice('c1', { hierarchy: { branchCount: 2 } }),
      mainOffice('hq', { resellerId: 'r2' }),
    );

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch),
    ).rejects.toMatchObject({ status: 409, code: 'office_has_branches' });
    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c2',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    store(customer('c2'));
    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c2',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 422, code: 'reseller_mismatch' });
    expect(writes()).toBe(0);
  });

  it('answers 404 for another reseller’s customer, writing nothing', async () => {
    store(customer('c1', { resellerId: 'r2' }), mainOffice('hq', { resellerId: 'r2' }));

    await expect(
      patchAdditionalInfo(
        ctx,
        resellerR1,
        'c1',
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(writes()).toBe(0);
  });

  it('answers 409 for a terminated customer and 412 for a stale If-Match, writing nothing', async () => {
    store(customer('c1', { status: 'terminated' }), customer('c2', { version: 4 }));
    const enableMain = { officeHierarchy: { enabled: true, office: 'main' } } as const;

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', enableMain, parseIfMatch('"1"')),
    ).rejects.toMatchObject({ status: 409, code: 'customer_terminated' });
    await expect(
      patchAdditionalInfo(ctx, admin, 'c2', enableMain, parseIfMatch('"3"')),
    ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
    expect(writes()).toBe(0);
  });
});

describe('patchAdditionalInfo: the DID batch', () => {
  it('reads a named batch with the customer and refuses a missing one with 404', async () => {
    store(customer('c1'));

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { didAutoProvisioning: { enabled: true, batchId: 'b1' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 404, code: 'did_batch_not_found' });
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems).toEqual({
      [tableName]: {
        Keys: [customerKey('c1'), { pk: 'DID_BATCH#b1', sk: 'DID_BATCH' }],
        ConsistentRead: true,
      },
    });
    expect(writes()).toBe(0);
  });

  it('checks the stored batch with a second read when enabling without naming one', async () => {
    store(customer('c1', { did: { enabled: false, batchId: 'b1' } }));
    table.set('DID_BATCH#b1', { pk: 'DID_BATCH#b1', sk: 'DID_BATCH' });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: true } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems).toEqual({
      [tableName]: { Keys: [{ pk: 'DID_BATCH#b1', sk: 'DID_BATCH' }], ConsistentRead: true },
    });
    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b1' });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });
});

describe('listBranches', () => {
  const branchItems = (mainOfficeId: string, ...ids: string[]) =>
    ids.map((id) => customerItem(branchOf(id, mainOfficeId)));

  it('queries the branchesByMainOffice index for one more than the page, beside a read of the main office', async () => {
    store(mainOffice('hq'));
    ddb.on(QueryCommand).resolves({ Items: branchItems('hq', 'b1', 'b2', 'b3') });

    const page = await listBranches(ctx, resellerR1, 'hq', { limit: 2 });

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: tableName,
      Key: customerKey('hq'),
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: tableName,
      IndexName: 'branchesByMainOffice',
      KeyConditionExpression: 'mainOfficePk = :pk',
      ExpressionAttributeValues: { ':pk': 'BRANCHES#hq' },
      Limit: 3,
      ExclusiveStartKey: undefined,
    });
    expect(page.items).toEqual([
      { id: 'b1', name: 'Customer b1', status: 'active' },
      { id: 'b2', name: 'Customer b2', status: 'active' },
    ]);
    expect(page.nextCursor).not.toBeNull();
    expect(JSON.parse(Buffer.from(page.nextCursor ?? '', 'base64url').toString('utf8'))).toEqual({
      pk: 'CUSTOMER#b2',
      sk: 'CUSTOMER',
      mainOfficePk: 'BRANCHES#hq',
      nameSk: 'customer b2#b2',
    });
  });

  it('starts the query after the cursor and ends the list with a null cursor', async () => {
    store(mainOffice('hq'));
    // Cursors name customers by their real (ULID) ids; anything else is refused as forged.
    const [b1, b2, b3] = [
      '01ARZ3NDEKTSV4RRFFQ69G5FB1',
      '01ARZ3NDEKTSV4RRFFQ69G5FB2',
      '01ARZ3NDEKTSV4RRFFQ69G5FB3',
    ];
    const first = branchItems('hq', b1, b2, b3);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: first })
      .resolvesOnce({ Items: first.slice(2) });

    const { nextCursor } = await listBranches(ctx, admin, 'hq', { limit: 2 });
    const second = await listBranches(ctx, admin, 'hq', { limit: 2, cursor: nextCursor ?? '' });

    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual({
      pk: `CUSTOMER#${b2}`,
      sk: 'CUSTOMER',
      mainOfficePk: 'BRANCHES#hq',
      nameSk: `customer ${b2.toLowerCase()}#${b2}`,
    });
    expect(second).toEqual({
      items: [{ id: b3, name: `Customer ${b3}`, status: 'active' }],
      nextCursor: null,
    });
  });

  it('answers 404 for a main office out of the caller’s scope or absent', async () => {
    store(mainOffice('hq', { resellerId: 'r2' }));
    ddb.on(QueryCommand).resolves({ Items: branchItems('hq', 'b1') });

    await expect(listBranches(ctx, resellerR1, 'hq', { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    await expect(listBranches(ctx, admin, 'absent', { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    await expect(
      listBranches(ctx, { role: 'customer', customerId: 'b1' }, 'hq', { limit: 25 }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
