import {
  BatchGetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type CustomerRecord, customerItem } from '../../../../../lib/data/customer.js';
import { customerListShardCount, shardOf } from '../../../../../lib/data/keys.js';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import {
  getAdditionalInfo,
  patchAdditionalInfo,
} from '../../../../../lib/domain/hierarchy/panel.js';
import type { AdditionalInfoPatch } from '../../../../../lib/schemas/additional-info.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import {
  batchGets,
  cancelEvery,
  cancellation,
  ddb,
  gets,
  type Item,
  type Key,
  store,
  transactions,
  writes,
} from '../../../../fixtures/mocked-table.js';
import {
  admin,
  unitContext as ctx,
  noIfMatch,
  now,
  resellerR1,
  tableName,
} from '../../../../fixtures/service-context.js';
import { didBatch, didBatchItem } from '../dids/support.js';

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const registryKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'PBX_NUMBERS' });
const didBatchKey = (id: string) => ({ pk: `DID_BATCH#${id}`, sk: 'DID_BATCH' });

/** Customers as stored, by their records. */
const storeCustomers = (...records: CustomerRecord[]) => store(...records.map(customerItem));

const registry = (customerId: string, fields: Record<string, unknown>): Item => ({
  ...registryKey(customerId),
  entityType: 'pbxRegistry',
  ...fields,
});

const idOf = (key: Key | Record<string, unknown> | undefined) => `${key?.pk}|${key?.sk}`;

/** The keys of the one BatchGetItem, in any order. */
const keysRead = () => {
  expect(batchGets()).toHaveLength(1);
  return (batchGets()[0] ?? []).map(idOf).sort();
};
const idsOf = (...keys: Key[]) => keys.map(idOf).sort();

/** What a transaction writes, by kind and key, in any order. */
const writtenIn = (call = 0) =>
  (transactions()[call] ?? [])
    .map((entry) => {
      const [kind, target] = Object.entries(entry)[0] as [string, Key];
      return `${kind} ${idOf(target)}`;
    })
    .sort();
/** Writes expected of a transaction, in any order. */
const inAnyOrder = (...writes: string[]) => writes.sort();
const put = (key: Key) => `put ${idOf(key)}`;
const update = (key: Key) => `update ${idOf(key)}`;

/** The write of a transaction at this key, as sent: its attribute names and values. */
function writeAt(key: Key, call = 0) {
  const operations = (
    ddb.commandCalls(TransactWriteCommand)[call]?.args[0].input.TransactItems ?? []
  )
    .map(
      (transactItem) =>
        Object.values(transactItem)[0] as {
          Key?: Record<string, unknown>;
          Item?: Record<string, unknown>;
          ExpressionAttributeNames?: Record<string, string>;
          ExpressionAttributeValues?: Record<string, unknown>;
        },
    )
    .filter((operation) => idOf(operation.Key ?? operation.Item) === idOf(key));
  expect(operations).toHaveLength(1);
  return operations[0];
}

/** The item a transaction puts at this key. */
const putAt = (key: Key, call = 0) => writeAt(key, call)?.Item;

/**
 * The next transaction loses to a concurrent writer that left these items (stored
 * from now on): its writes at their keys fail, with the items as they are now.
 */
const concurrentWrite = (...items: Item[]) =>
  ddb.on(TransactWriteCommand).callsFakeOnce(async (input) => {
    store(...items);
    throw cancellation(
      input,
      items.map((item) => ({ key: item, was: item })),
    );
  });

const linkTo = (mainOfficeId: string): AdditionalInfoPatch => ({
  officeHierarchy: { enabled: true, office: 'branch', mainOfficeId },
});

describe('getAdditionalInfo', () => {
  it('reads a standalone customer once and answers its panel with its ETag', async () => {
    const record = customer('c1', { version: 7, aliasAuthDefault: 'enabled' });
    storeCustomers(record);

    expect(await getAdditionalInfo(ctx, resellerR1, 'c1')).toEqual({
      additionalInfo: record.additionalInfo,
      etag: '"7"',
    });
    expect(gets()).toEqual([customerKey('c1')]);
  });

  it('reads a branch’s main office too, for the invoicing it shows', async () => {
    storeCustomers(
      branchOf('c1', 'hq'),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } }),
    );

    const { additionalInfo, etag } = await getAdditionalInfo(ctx, admin, 'c1');

    expect(additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
      branchCount: 0,
    });
    expect(etag).toBe('"4"');
    expect(gets()).toHaveLength(2);
  });

  it('answers 404 for an absent customer and for another tenant’s', async () => {
    await expect(getAdditionalInfo(ctx, admin, 'absent')).rejects.toMatchObject({
      code: 'not_found',
    });
    storeCustomers(customer('c1', { resellerId: 'r2' }));
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
    expect(ddb.calls()).toHaveLength(1);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual(customerKey('c1'));
    expect(namesIn(input)).toEqual(expect.arrayContaining(['additionalInfo', 'aliasAuthDefault']));
    // The new value, and the version If-Match names.
    expect(valuesIn(input)).toEqual(expect.arrayContaining(['disabled', 4]));
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
    expect(ddb.calls()).toHaveLength(1);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(namesIn(input)).toEqual(expect.arrayContaining(['didAutoProvisioning', 'enabled']));
    expect(namesIn(input)).not.toContain('batchId');
  });

  it('reads the main office after the update of a branch, to show its invoicing', async () => {
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: customerItem(branchOf('c1', 'hq', { version: 5 })) });
    storeCustomers(mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } }));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { aliasAuthDefault: 'enabled' },
      noIfMatch,
    );

    expect(panel.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(gets()).toEqual([customerKey('hq')]);
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
    // The refused updates themselves, and nothing else.
    expect(writes()).toBe(2);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });
});

describe('patchAdditionalInfo: linking and unlinking', () => {
  it('links a branch of another currency: one consistent BatchGetItem, then one transaction', async () => {
    storeCustomers(
      customer('c1', { version: 4 }),
      mainOffice('hq', { currency: 'USD', version: 9, hierarchy: { branchCount: 2 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(keysRead()).toEqual(
      idsOf(customerKey('c1'), customerKey('hq'), registryKey('c1'), registryKey('hq')),
    );
    expect(ddb).toHaveReceivedCommandWith(BatchGetCommand, {
      RequestItems: { [tableName]: expect.objectContaining({ ConsistentRead: true }) },
    });
    expect(gets()).toEqual([]);
    const next = branchOf('c1', 'hq', {
      version: 5,
      updatedAt: now,
      linkedWithOtherCurrency: true,
    });
    expect(writtenIn()).toEqual(
      inAnyOrder(put(customerKey('c1')), update(customerKey('hq')), update(registryKey('c1'))),
    );
    expect(putAt(customerKey('c1'))).toEqual(customerItem(next));
    expect(putAt(customerKey('c1'))).toMatchObject({
      mainOfficePk: 'BRANCHES#hq',
      numberGroup: 'hq',
    });
    // Conditioned on the version that was read.
    expect(valuesIn(writeAt(customerKey('c1')))).toContain(4);
    // The HQ counts the branch in, as one of another currency.
    const hq = writeAt(customerKey('hq'));
    expect(namesIn(hq)).toEqual(
      expect.arrayContaining(['branchCount', 'otherCurrencyBranchCount', 'version']),
    );
    expect(valuesIn(hq)).toContain(1);
    expect(valuesIn(hq)).not.toContain(-1);
    expect(writes()).toBe(1);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"5"' });
  });

  it('links a branch of the same currency without counting it as of another currency', async () => {
    storeCustomers(
      customer('c1'),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(namesIn(writeAt(customerKey('hq')))).not.toContain('otherCurrencyBranchCount');
    expect(putAt(customerKey('c1'))).toMatchObject({ linkedWithOtherCurrency: false });
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
    storeCustomers(branchOf('c1', 'hq', { version: 6, linkedWithOtherCurrency: true }));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { office: 'main' } },
      noIfMatch,
    );

    expect(keysRead()).toEqual(idsOf(customerKey('c1'), registryKey('c1')));
    const next = mainOffice('c1', { version: 7, updatedAt: now });
    expect(writtenIn()).toEqual(
      inAnyOrder(put(customerKey('c1')), update(customerKey('hq')), update(registryKey('c1'))),
    );
    expect(putAt(customerKey('c1'))).toEqual(customerItem(next));
    expect(putAt(customerKey('c1'))).toMatchObject({
      mainOfficeAllPk: `MAIN_OFFICES#${shardOf('c1', customerListShardCount)}`,
    });
    expect(putAt(customerKey('c1'))).not.toHaveProperty('mainOfficePk');
    expect(namesIn(writeAt(customerKey('hq')))).toContain('otherCurrencyBranchCount');
    expect(valuesIn(writeAt(customerKey('hq')))).toContain(-1);
    expect(gets()).toEqual([]);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"7"' });
  });

  it('unlinks by disabling the hierarchy: a same-currency branch counted out', async () => {
    storeCustomers(branchOf('c1', 'hq'));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { enabled: false } },
      noIfMatch,
    );

    expect(writtenIn()).toEqual(
      inAnyOrder(put(customerKey('c1')), update(customerKey('hq')), update(registryKey('c1'))),
    );
    expect(valuesIn(writeAt(customerKey('hq')))).toContain(-1);
    expect(namesIn(writeAt(customerKey('hq')))).not.toContain('otherCurrencyBranchCount');
    expect(putAt(customerKey('c1'))).not.toHaveProperty('mainOfficePk');
    expect(panel.additionalInfo.officeHierarchy).toMatchObject({ enabled: false, office: null });
  });

  it('moves a branch in one transaction: joins the new main office, leaves the old one', async () => {
    storeCustomers(
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

    expect(writtenIn()).toEqual(
      inAnyOrder(
        put(customerKey('c1')),
        update(customerKey('new')),
        update(customerKey('old')),
        update(registryKey('c1')),
      ),
    );
    expect(putAt(customerKey('c1'))).toEqual(
      customerItem(branchOf('c1', 'new', { version: 5, updatedAt: now })),
    );
    expect(valuesIn(writeAt(customerKey('new')))).toContain(1);
    expect(valuesIn(writeAt(customerKey('old')))).toContain(-1);
    expect(namesIn(writeAt(customerKey('old')))).toContain('otherCurrencyBranchCount');
  });

  it('moves the customer’s PBX numbers into the group it joins', async () => {
    const own = new Set(['101', '9']);
    storeCustomers(customer('c1'), mainOffice('hq'));
    store(
      registry('c1', { own, reserved: own, revision: 3 }),
      registry('hq', { own: new Set(['200']), reserved: new Set(['200']), revision: 7 }),
    );

    await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(writtenIn()).toEqual(
      inAnyOrder(
        put(customerKey('c1')),
        update(customerKey('hq')),
        update(registryKey('c1')),
        update(registryKey('hq')),
      ),
    );
    // Each registry conditioned on the revision read; the HQ's group reserves the numbers.
    expect(valuesIn(writeAt(registryKey('c1')))).toContain(3);
    expect(namesIn(writeAt(registryKey('c1')))).toContain('reserved');
    expect(valuesIn(writeAt(registryKey('hq')))).toEqual(expect.arrayContaining([7, own]));
  });

  it('refuses a link whose numbers the group already uses with 409 number_conflict, writing nothing', async () => {
    storeCustomers(customer('c1'), mainOffice('hq'));
    store(
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
    storeCustomers(branchOf('c1', 'hq'));
    store(registry('c1', { own: new Set(['300']), inheritedMembers: 2 }));

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch),
    ).rejects.toMatchObject({ code: 'extension_in_use' });
    expect(writes()).toBe(0);
  });

  it('puts a change without a link alone, conditioned on the version read', async () => {
    storeCustomers(mainOffice('c1', { version: 8, hierarchy: { branchCount: 2 } }));

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
    expect(writes()).toBe(1);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.Item).toEqual(customerItem(next));
    expect(valuesIn(input)).toContain(8);
    expect(panel).toEqual({ additionalInfo: next.additionalInfo, etag: '"9"' });
  });

  it('writes nothing for a patch that leaves the state as it is', async () => {
    storeCustomers(
      branchOf('c1', 'hq', { version: 4 }),
      mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } }),
    );

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(writes()).toBe(0);
    expect(batchGets()).toHaveLength(1);
    expect(gets()).toEqual([]);
    expect(panel.etag).toBe('"4"');
    expect(panel.additionalInfo.officeHierarchy).toMatchObject({
      mainOfficeId: 'hq',
      invoicing: 'consolidated',
    });
  });

  it('shows the main office’s invoicing on a no-op patch of a branch that does not name it', async () => {
    storeCustomers(
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
    expect(gets()).toEqual([customerKey('hq')]);
    expect(panel.etag).toBe('"4"');
    expect(panel.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
  });
});

describe('patchAdditionalInfo: a write that meets another', () => {
  it('reads again and writes again when the customer changed meanwhile', async () => {
    storeCustomers(customer('c1', { version: 4 }), mainOffice('hq'));
    concurrentWrite(customerItem(customer('c1', { version: 5 })));

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(batchGets()).toHaveLength(2);
    expect(transactions()).toHaveLength(2);
    expect(valuesIn(writeAt(customerKey('c1'), 0))).toContain(4);
    expect(valuesIn(writeAt(customerKey('c1'), 1))).toContain(5);
    expect(putAt(customerKey('c1'), 1)).toMatchObject({ version: 6 });
    expect(panel.etag).toBe('"6"');
  });

  it('retries a put whose version condition failed', async () => {
    storeCustomers(mainOffice('c1', { version: 4 }));
    const meanwhile = customerItem(mainOffice('c1', { version: 5 }));
    ddb.on(PutCommand).callsFakeOnce(async () => {
      store(meanwhile);
      throw conditionFailed(meanwhile);
    });

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { officeHierarchy: { invoicing: 'consolidated' } },
      noIfMatch,
    );

    expect(batchGets()).toHaveLength(2);
    const puts = ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(2);
    expect(valuesIn(puts[1])).toContain(5);
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
      storeCustomers(customer('c1'), mainOffice('hq', { currency: hqNow.currency }));
      cancelEvery({ key: customerKey('hq'), was: customerItem(hqNow) });

      await expect(
        patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
      ).rejects.toMatchObject({ code });
      expect(batchGets()).toHaveLength(1);
      expect(transactions()).toHaveLength(1);
    },
  );

  it('answers the rule that holds on a fresh read when the customer changed too', async () => {
    storeCustomers(customer('c1'), mainOffice('hq'));
    concurrentWrite(
      customerItem(customer('c1', { version: 5 })),
      customerItem(mainOffice('hq', { status: 'terminated', version: 5 })),
    );

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
    ).rejects.toMatchObject({ code: 'customer_terminated' });
    expect(batchGets()).toHaveLength(2);
    expect(transactions()).toHaveLength(1);
  });

  it('keeps a branch from leaving a main office terminated since (409 customer_terminated)', async () => {
    storeCustomers(branchOf('c1', 'hq'));
    cancelEvery({
      key: customerKey('hq'),
      was: customerItem(mainOffice('hq', { status: 'terminated' })),
    });

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', { officeHierarchy: { enabled: false } }, noIfMatch),
    ).rejects.toMatchObject({ code: 'customer_terminated' });
    expect(transactions()).toHaveLength(1);
    expect(gets()).toEqual([]);
  });

  it('reads again when a PBX registry changed since it was read', async () => {
    storeCustomers(customer('c1'), mainOffice('hq'));
    concurrentWrite(registry('c1', { revision: 12 }));

    const panel = await patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch);

    expect(batchGets()).toHaveLength(2);
    expect(transactions()).toHaveLength(2);
    // The second attempt is conditioned on the revision read again.
    expect(valuesIn(writeAt(registryKey('c1'), 1))).toContain(12);
    expect(panel.additionalInfo.officeHierarchy.mainOfficeId).toBe('hq');
  });

  it('gives up with 409 concurrent_update after ten conflicts', async () => {
    storeCustomers(customer('c1'), mainOffice('hq'));
    cancelEvery({ key: customerKey('c1') });

    await expect(
      patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch),
    ).rejects.toMatchObject({ code: 'concurrent_update' });
    expect(transactions()).toHaveLength(10);
    expect(batchGets()).toHaveLength(10);
  });

  it('lets other errors of the write through without retrying', async () => {
    storeCustomers(customer('c1'), mainOffice('hq'));
    ddb.on(TransactWriteCommand).rejects(new Error('throttled'));

    await expect(patchAdditionalInfo(ctx, admin, 'c1', linkTo('hq'), noIfMatch)).rejects.toThrow(
      'throttled',
    );
    expect(transactions()).toHaveLength(1);
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
    storeCustomers(...records);

    await expect(patchAdditionalInfo(ctx, admin, 'c1', patch, noIfMatch)).rejects.toMatchObject({
      code,
    });
    expect(writes()).toBe(0);
  });

  it('answers 404 for another reseller’s customer and 412 for a stale If-Match', async () => {
    storeCustomers(customer('c1', { resellerId: 'r2' }), mainOffice('hq', { resellerId: 'r2' }));
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
    storeCustomers(customer('c1'));

    await expect(
      patchAdditionalInfo(
        ctx,
        admin,
        'c1',
        { didAutoProvisioning: { enabled: true, batchId: 'x' } },
        noIfMatch,
      ),
    ).rejects.toMatchObject({ status: 404, code: 'did_batch_not_found' });
    expect(keysRead()).toEqual(idsOf(customerKey('c1'), didBatchKey('x')));
    expect(gets()).toEqual([]);
    expect(writes()).toBe(0);
  });

  it('accepts a named batch read with the customer, without another read', async () => {
    storeCustomers(customer('c1'));
    store(didBatchItem(didBatch('b2')));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: true, batchId: 'b2' } },
      noIfMatch,
    );

    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b2' });
    expect(gets()).toEqual([]);
    expect(writes()).toBe(1);
  });

  it('checks the stored batch with a second read when enabling without naming one', async () => {
    storeCustomers(customer('c1', { did: { enabled: false, batchId: 'b1' } }));
    store(didBatchItem(didBatch('b1')));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: true } },
      noIfMatch,
    );

    expect(batchGets()).toHaveLength(1);
    expect(gets()).toEqual([didBatchKey('b1')]);
    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b1' });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      additionalInfo: { didAutoProvisioning: { enabled: true, batchId: 'b1' } },
    });
  });

  it('refuses a paid batch in another currency with 422 currency_mismatch, writing nothing', async () => {
    storeCustomers(customer('c1', { did: { enabled: false, batchId: 'usd' } }));
    store(didBatchItem(didBatch('usd', { currency: 'USD' })));

    for (const patch of [
      { didAutoProvisioning: { enabled: true } },
      { didAutoProvisioning: { enabled: true, batchId: 'usd' } },
    ]) {
      await expect(patchAdditionalInfo(ctx, admin, 'c1', patch, noIfMatch)).rejects.toMatchObject({
        status: 422,
        code: 'currency_mismatch',
      });
    }
    expect(writes()).toBe(0);
  });

  it('accepts a free batch for a customer of any currency', async () => {
    storeCustomers(customer('c1', { currency: 'JPY' }));
    store(didBatchItem(didBatch('free', { free: true })));

    const panel = await patchAdditionalInfo(
      ctx,
      admin,
      'c1',
      { didAutoProvisioning: { enabled: true, batchId: 'free' } },
      noIfMatch,
    );

    expect(panel.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'free' });
    expect(writes()).toBe(1);
  });
});
