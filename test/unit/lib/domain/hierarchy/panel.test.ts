import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CustomerRecord, customerItem } from '../../../../../lib/data/customer.js';
import { customerKey, didBatchKey, pbxRegistryKey } from '../../../../../lib/data/keys.js';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import {
  getAdditionalInfo,
  patchAdditionalInfo,
} from '../../../../../lib/domain/hierarchy/panel.js';
import type { AdditionalInfoPatch } from '../../../../../lib/schemas/additional-info.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import {
  admin,
  unitContext as ctx,
  noIfMatch,
  now,
  resellerR1,
  tableName,
} from '../../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
});

type Item = Record<string, unknown>;

/** A BatchGetItem answer holding these items. */
const found = (...items: Item[]) => ({ Responses: { [tableName]: items } });

/** Every BatchGetItem answers these items (the records' items, as stored). */
const stored = (...items: (CustomerRecord | Item)[]) =>
  ddb
    .on(BatchGetCommand)
    .resolves(
      found(
        ...items.map((item) =>
          'additionalInfo' in item ? customerItem(item as CustomerRecord) : item,
        ),
      ),
    );

const registry = (customerId: string, fields: Item) => ({
  ...pbxRegistryKey(customerId),
  entityType: 'pbxRegistry',
  ...fields,
});

/** A cancelled transaction: one reason per item, a failed one with the item as it was. */
const cancelled = (...reasons: (undefined | { failed: true; item?: Item })[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: reasons.map((reason) =>
      reason
        ? {
            Code: 'ConditionalCheckFailed',
            Item: reason.item ? marshall(reason.item, { removeUndefinedValues: true }) : undefined,
          }
        : { Code: 'None' },
    ),
  });
const failedWith = (record?: CustomerRecord) =>
  ({ failed: true, item: record ? customerItem(record) : undefined }) as const;

const writes = () =>
  ddb.commandCalls(PutCommand).length +
  ddb.commandCalls(UpdateCommand).length +
  ddb.commandCalls(TransactWriteCommand).length;

type TransactItem = NonNullable<TransactWriteCommand['input']['TransactItems']>[number];
const transactItems = (call = 0): TransactItem[] =>
  ddb.commandCalls(TransactWriteCommand)[call]?.args[0].input.TransactItems ?? [];

/** What each transaction item writes: its kind and the item's key. */
const written = (items: readonly TransactItem[]) =>
  items.map((item) => {
    const [kind, write] = Object.entries(item)[0] as [string, { Key?: Item; Item?: Item }];
    const key = write.Key ?? write.Item ?? {};
    return `${kind} ${key.pk}/${key.sk}`;
  });

/** The attribute names and the values an Update carries (what it writes and compares). */
const namesOf = (write: { ExpressionAttributeNames?: Record<string, string> } | undefined) =>
  Object.values(write?.ExpressionAttributeNames ?? {});
const valuesOf = (write: { ExpressionAttributeValues?: Record<string, unknown> } | undefined) =>
  Object.values(write?.ExpressionAttributeValues ?? {});

const put = (record: string) => `Put CUSTOMER#${record}/CUSTOMER`;
const update = (record: string) => `Update CUSTOMER#${record}/CUSTOMER`;
const registryUpdate = (record: string) => `Update CUSTOMER#${record}/PBX_NUMBERS`;

const linkTo = (mainOfficeId: string): AdditionalInfoPatch => ({
  officeHierarchy: { enabled: true, office: 'branch', mainOfficeId },
});

describe('getAdditionalInfo', () => {
  it('reads a standalone customer once and answers its panel with its ETag', async () => {
    const record = customer('c1', { version: 7, aliasAuthDefault: 'enabled' });
    ddb.on(GetCommand).resolves({ Item: customerItem(record) });

    expect(await getAdditionalInfo(ctx, resellerR1, 'c1')).toEqual({
      additionalInfo: record.additionalInfo,
      etag: '"7"',
    });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reads a branch’s main office too, for the invoicing it shows', async () => {
    ddb
      .on(GetCommand, { Key: customerKey('c1') })
      .resolves({ Item: customerItem(branchOf('c1', 'hq')) })
      .on(GetCommand, { Key: customerKey('hq') })
      .resolves({
        Item: customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
      });

    const { additionalInfo, etag } = await getAdditionalInfo(ctx, admin, 'c1');

    expect(additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
      branchCount: 0,
    });
    expect(etag).toBe('"4"');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('answers 404 for an absent customer and for another tenant’s', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(getAdditionalInfo(ctx, admin, 'absent')).rejects.toMatchObject({
      code: 'not_found',
    });
    ddb.on(GetCommand).resolves({ Item: customerItem(customer('c1', { resellerId: 'r2' })) });
    await expect(getAdditionalInfo(ctx, resellerR1, 'c1')).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('patchAdditionalInfo: the customer’s own settings', () => {
  it('changes aliasAuthDefault with one UpdateItem of the customer and no read', async () => {
    const updated = customer('c1', { version: 5, aliasAuthDefault: 'disabled' });
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
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, { Key: customerKey('c1') });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(namesOf(input)).toEqual(expect.arrayContaining(['additionalInfo', 'aliasAuthDefault']));
    expect(valuesOf(input)).toEqual(expect.arrayContaining(['disabled', 4]));
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
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
    expect(namesOf(input)).toEqual(expect.arrayContaining(['didAutoProvisioning', 'enabled']));
    expect(JSON.stringify(input)).not.toContain('batchId');
  });

  it('reads the main office after the update of a branch, to show its invoicing', async () => {
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: customerItem(branchOf('c1', 'hq', { version: 5 })) });
    ddb.on(GetCommand, { Key: customerKey('hq') }).resolves({
      Item: customerItem(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } })),
    });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { aliasAuthDefault: 'enabled' },
      noIfMatch,
    );

    expect(panel.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('explains a refused update from the item as it was: 409 terminated, 412 stale', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed(customerItem(customer('c1', { status: 'terminated' }))));
    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { aliasAuthDefault: 'enabled' }, noIfMatch),
    ).rejects.toMatchObject({ code: 'customer_terminated' });
    ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(customer('c1'))));
    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { aliasAuthDefault: 'enabled' }, parseIfMatch('"3"')),
    ).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });
});

describe('patchAdditionalInfo: linking and unlinking', () => {
  it('links a branch of another currency: one consistent BatchGetItem, then one transaction', async () => {
    stored(
      customer('c1', { version: 4 }),
      mainOffice('hq', { currency: 'USD', version: 9, hierarchy: { branchCount: 2 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems).toEqual({
      [tableName]: {
        Keys: [customerKey('c1'), customerKey('hq'), pbxRegistryKey('c1'), pbxRegistryKey('hq')],
        ConsistentRead: true,
      },
    });
    const next = branchOf('c1', 'hq', {
      version: 5,
      updatedAt: now,
      linkedWithOtherCurrency: true,
    });
    const items = transactItems();
    expect(written(items)).toEqual([put('c1'), update('hq'), registryUpdate('c1')]);
    expect(items[0]?.Put?.Item).toEqual(customerItem(next));
    expect(items[0]?.Put?.Item).toMatchObject({ mainOfficePk: 'BRANCHES#hq', numberGroup: 'hq' });
    // Conditioned on the version that was read.
    expect(valuesOf(items[0]?.Put)).toEqual([4]);
    // The HQ counts the branch in, as one of another currency.
    expect(namesOf(items[1]?.Update)).toEqual(
      expect.arrayContaining(['branchCount', 'otherCurrencyBranchCount', 'version']),
    );
    expect(valuesOf(items[1]?.Update)).toContain(1);
    expect(valuesOf(items[1]?.Update)).not.toContain(-1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"5"' });
  });

  it('links a branch of the same currency without counting it as of another currency', async () => {
    stored(
      customer('c1'),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    const items = transactItems();
    expect(namesOf(items[1]?.Update)).not.toContain('otherCurrencyBranchCount');
    expect(items[0]?.Put?.Item).toMatchObject({ linkedWithOtherCurrency: false });
    // The branch shows its main office’s invoicing.
    expect(panel.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
      branchCount: 0,
    });
  });

  it('unlinks by becoming a main office: the old main office counts it out, unread', async () => {
    stored(branchOf('c1', 'hq', { version: 6, linkedWithOtherCurrency: true }));

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
    const items = transactItems();
    expect(written(items)).toEqual([put('c1'), update('hq'), registryUpdate('c1')]);
    expect(items[0]?.Put?.Item).toEqual(customerItem(next));
    expect(items[0]?.Put?.Item).toMatchObject({ mainOfficeAllPk: 'MAIN_OFFICES' });
    expect(items[0]?.Put?.Item).not.toHaveProperty('mainOfficePk');
    expect(namesOf(items[1]?.Update)).toContain('otherCurrencyBranchCount');
    expect(valuesOf(items[1]?.Update)).toContain(-1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"7"' });
  });

  it('unlinks by disabling the hierarchy: a same-currency branch counted out', async () => {
    stored(branchOf('c1', 'hq'));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: false } },
      noIfMatch,
    );

    const items = transactItems();
    expect(written(items)).toEqual([put('c1'), update('hq'), registryUpdate('c1')]);
    expect(valuesOf(items[1]?.Update)).toContain(-1);
    expect(namesOf(items[1]?.Update)).not.toContain('otherCurrencyBranchCount');
    expect(items[0]?.Put?.Item).not.toHaveProperty('mainOfficePk');
    expect(panel.additionalInfo.officeHierarchy).toMatchObject({ enabled: false, office: null });
  });

  it('moves a branch in one transaction: joins the new main office, leaves the old one', async () => {
    stored(
      branchOf('c1', 'old', { linkedWithOtherCurrency: true }),
      mainOffice('new', { hierarchy: { branchCount: 0 } }),
    );

    await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { mainOfficeId: 'new' } },
      noIfMatch,
    );

    const items = transactItems();
    expect(written(items)).toEqual([put('c1'), update('new'), update('old'), registryUpdate('c1')]);
    expect(items[0]?.Put?.Item).toEqual(
      customerItem(branchOf('c1', 'new', { version: 5, updatedAt: now })),
    );
    expect(valuesOf(items[1]?.Update)).toContain(1);
    expect(valuesOf(items[2]?.Update)).toContain(-1);
    expect(namesOf(items[2]?.Update)).toContain('otherCurrencyBranchCount');
  });

  it('moves the customer’s PBX numbers into the group it joins', async () => {
    const own = new Set(['101', '9']);
    stored(
      customer('c1'),
      mainOffice('hq'),
      registry('c1', { own, reserved: own, revision: 3 }),
      registry('hq', { own: new Set(['200']), reserved: new Set(['200']), revision: 7 }),
    );

    await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    const items = transactItems();
    expect(written(items)).toEqual([
      put('c1'),
      update('hq'),
      registryUpdate('c1'),
      registryUpdate('hq'),
    ]);
    // Each registry conditioned on the revision read; the HQ's group reserves the numbers.
    expect(valuesOf(items[2]?.Update)).toContain(3);
    expect(namesOf(items[2]?.Update)).toContain('reserved');
    expect(valuesOf(items[3]?.Update)).toEqual(expect.arrayContaining([7, own]));
  });

  it('refuses a link whose numbers the group already uses with 409 number_conflict, writing nothing', async () => {
    stored(
      customer('c1'),
      mainOffice('hq'),
      registry('c1', { own: new Set(['101', '9', '55']), revision: 3 }),
      registry('hq', { reserved: new Set(['101', '9']), revision: 7 }),
    );

    const error = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch).catch(
      (caught) => caught,
    );

    expect(error).toMatchObject({ code: 'number_conflict' });
    expect(error.errors.map((entry: { path: string }) => entry.path)).toEqual([
      'numbers.9',
      'numbers.101',
    ]);
    expect(writes()).toBe(0);
  });

  it('keeps a branch whose hunt groups use its HQ’s extensions from leaving (409 extension_in_use)', async () => {
    stored(branchOf('c1', 'hq'), registry('c1', { own: new Set(['300']), inheritedMembers: 2 }));

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch),
    ).rejects.toMatchObject({ code: 'extension_in_use' });
    expect(writes()).toBe(0);
  });

  it('puts a change without a link alone, conditioned on the version read', async () => {
    stored(mainOffice('c1', { version: 8, hierarchy: { branchCount: 2 } }));

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
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.Item).toEqual(customerItem(next));
    expect(valuesOf(input)).toEqual([8]);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"9"' });
  });

  it('writes nothing for a patch that leaves the state as it is', async () => {
    stored(
      branchOf('c1', 'hq', { version: 4 }),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(writes()).toBe(0);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
    expect(panel.etag).toBe('"4"');
    expect(panel.additionalInfo.officeHierarchy).toMatchObject({
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
    });
  });

  it('shows the main office’s invoicing on a no-op patch of a branch that does not name it', async () => {
    stored(branchOf('c1', 'hq', { version: 4 }));
    ddb.on(GetCommand, { Key: customerKey('hq') }).resolves({
      Item: customerItem(
        mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
      ),
    });

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
});

describe('patchAdditionalInfo: a write that meets another', () => {
  it('reads again and writes again when the customer changed meanwhile', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce(
        found(customerItem(customer('c1', { version: 4 })), customerItem(mainOffice('hq'))),
      )
      .resolves(
        found(customerItem(customer('c1', { version: 5 })), customerItem(mainOffice('hq'))),
      );
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(failedWith(), undefined, undefined));

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(valuesOf(transactItems(0)[0]?.Put)).toEqual([4]);
    expect(valuesOf(transactItems(1)[0]?.Put)).toEqual([5]);
    expect(transactItems(1)[0]?.Put?.Item).toMatchObject({ version: 6 });
    expect(panel.etag).toBe('"6"');
  });

  it('retries a put whose version condition failed', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce(found(customerItem(mainOffice('c1', { version: 4 }))))
      .resolves(found(customerItem(mainOffice('c1', { version: 5 }))));
    ddb.on(PutCommand).rejectsOnce(conditionFailed(customerItem(mainOffice('c1', { version: 5 }))));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { invoicing: 'consolidated' } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2);
    expect(valuesOf(ddb.commandCalls(PutCommand)[1]?.args[0].input)).toEqual([5]);
    expect(panel.etag).toBe('"6"');
  });

  it.each([
    ['terminated', mainOffice('hq', { status: 'terminated' }), 'customer_terminated'],
    ['demoted', customer('hq'), 'main_office_not_main'],
    [
      'switched to consolidated invoicing in another currency',
      mainOffice('hq', { currency: 'USD', hierarchy: { invoicing: 'consolidated' } }),
      'currency_mismatch',
    ],
  ])(
    'answers the rule a main office %s since it was read now breaks, without reading again',
    async (_label, hqNow, code) => {
      stored(customer('c1'), mainOffice('hq', { currency: hqNow.currency }));
      ddb.on(TransactWriteCommand).rejects(cancelled(undefined, failedWith(hqNow), undefined));

      await expect(
        patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
      ).rejects.toMatchObject({
        code,
      });
      expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
      expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    },
  );

  it('answers the rule that holds on a fresh read when the customer changed too', async () => {
    const terminatedHq = mainOffice('hq', { status: 'terminated', version: 5 });
    ddb
      .on(BatchGetCommand)
      .resolvesOnce(found(customerItem(customer('c1')), customerItem(mainOffice('hq'))))
      .resolves(found(customerItem(customer('c1', { version: 5 })), customerItem(terminatedHq)));
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled(failedWith(customer('c1', { version: 5 })), failedWith(terminatedHq), undefined),
      );

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
    ).rejects.toMatchObject({
      code: 'customer_terminated',
    });
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('keeps a branch from leaving a main office terminated since (409 customer_terminated)', async () => {
    stored(branchOf('c1', 'hq'));
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled(undefined, failedWith(mainOffice('hq', { status: 'terminated' })), undefined),
      );

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch),
    ).rejects.toMatchObject({ code: 'customer_terminated' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('reads again when a PBX registry changed since it was read', async () => {
    stored(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled(undefined, undefined, { failed: true }));

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(panel.additionalInfo.officeHierarchy.mainOfficeId).toBe('hq');
  });

  it('gives up with 409 concurrent_update after ten conflicts', async () => {
    stored(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejects(cancelled(failedWith(), undefined, undefined));

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
    ).rejects.toMatchObject({
      code: 'concurrent_update',
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 10);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 10);
  });

  it('lets other errors of the write through without retrying', async () => {
    stored(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejects(new Error('throttled'));

    await expect(patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch)).rejects.toThrow(
      'throttled',
    );
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});

describe('patchAdditionalInfo: refusals write nothing', () => {
  it.each([
    [
      'an HQ with branches disabling the hierarchy',
      [mainOffice('c1', { hierarchy: { branchCount: 2 } })],
      { officeHierarchy: { enabled: false } },
      'office_has_branches',
    ],
    ['an absent customer', [], linkTo('hq'), 'not_found'],
    [
      'a main office of another reseller',
      [customer('c1'), mainOffice('hq', { resellerId: 'r2' })],
      linkTo('hq'),
      'reseller_mismatch',
    ],
    [
      'a main office that names nothing, whatever its shape',
      [customer('c1')],
      linkTo('not-a-ulid'),
      'main_office_not_found',
    ],
    [
      'a terminated customer',
      [customer('c1', { status: 'terminated' })],
      { officeHierarchy: { enabled: true, office: 'main' } },
      'customer_terminated',
    ],
  ] as const)('refuses %s', async (_label, records, patch, code) => {
    stored(...records);

    await expect(patchAdditionalInfo(ctx, admin, 'c1', patch, noIfMatch)).rejects.toMatchObject({
      code,
    });
    expect(writes()).toBe(0);
  });

  it('answers 404 for another reseller’s customer and 412 for a stale If-Match', async () => {
    stored(customer('c1', { resellerId: 'r2' }), mainOffice('hq', { resellerId: 'r2' }));
    await expect(
      patchAdditionalInfo(ctx, resellerR1, 'c1', linkTo('hq'), noIfMatch),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), parseIfMatch('"3"')),
    ).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(writes()).toBe(0);
  });
});

describe('patchAdditionalInfo: the DID batch', () => {
  it('reads a named batch with the customer and refuses a missing one with 404, whatever its id', async () => {
    stored(customer('c1'));

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { didAutoProvisioning: { enabled: true, batchId: 'x' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 404, code: 'did_batch_not_found' });
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems).toEqual({
      [tableName]: { Keys: [customerKey('c1'), didBatchKey('x')], ConsistentRead: true },
    });
    expect(writes()).toBe(0);
  });

  it('checks the stored batch with a second read when enabling without naming one', async () => {
    stored(customer('c1', { did: { enabled: false, batchId: 'b1' } }));
    ddb.on(GetCommand, { Key: didBatchKey('b1') }).resolves({ Item: didBatchKey('b1') });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: true } },
      noIfMatch,
    );

    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b1' });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      additionalInfo: { didAutoProvisioning: { enabled: true, batchId: 'b1' } },
    });
  });
});
