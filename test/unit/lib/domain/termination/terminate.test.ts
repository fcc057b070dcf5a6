import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import { terminateCustomer } from '../../../../../lib/domain/termination/terminate.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { conditionFailed, transactionConflict } from '../../../../fixtures/dynamodb-errors.js';
import {
  admin,
  unitContext as ctx,
  noIfMatch,
  now,
  resellerR1,
} from '../../../../fixtures/service-context.js';
import { terminatedShape } from '../../../../fixtures/termination.js';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const terminatedBefore = terminatedShape();
/** c1 as the update leaves it: terminated now, version 5. */
const terminatedC1 = customerItem(
  customer('c1', {
    status: 'terminated',
    terminatedAt: now,
    terminatedBy: { reason: 'requested' },
    updatedAt: now,
    version: 5,
  }),
);
const update = () => ddb.commandCalls(UpdateCommand)[0]?.args[0].input;

describe('terminateCustomer', () => {
  it('terminates by request in one UpdateItem and answers the customer as written', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: terminatedC1 });

    const { customer: answered, etag } = await terminateCustomer(ctx, admin, 'c1', noIfMatch);

    expect(ddb.calls()).toHaveLength(1);
    expect(update()).toMatchObject({ Key: customerKey('c1'), ReturnValues: 'ALL_NEW' });
    expect(valuesIn(update())).toEqual(
      expect.arrayContaining(['terminated', { reason: 'requested' }, now]),
    );
    // It leaves the "Main office" dropdown in the same write.
    expect(namesIn(update())).toEqual(
      expect.arrayContaining([
        'terminatedAt',
        'terminatedBy',
        'updatedAt',
        'version',
        'mainOfficeAllPk',
        'mainOfficeResellerPk',
      ]),
    );
    expect(etag).toBe('"5"');
    expect(answered).toMatchObject({
      id: 'c1',
      status: 'terminated',
      terminatedAt: now,
      terminatedBy: { reason: 'requested' },
    });
    expect(answered).not.toHaveProperty('pk');
  });

  it('conditions the write on the reseller’s scope, the active status and If-Match', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: terminatedC1 });

    await terminateCustomer(ctx, resellerR1, 'c1', parseIfMatch('"4"'));

    expect(update()?.ConditionExpression).toBeDefined();
    expect(valuesIn(update())).toEqual(expect.arrayContaining(['r1', 'active', 4]));
  });

  it('answers an already terminated customer unchanged, from the item as it was, whatever If-Match says', async () => {
    const before = customer('c1', { ...terminatedBefore, version: 7 });
    ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(before)));

    const { customer: answered, etag } = await terminateCustomer(
      ctx,
      resellerR1,
      'c1',
      parseIfMatch('"3"'),
    );

    expect(etag).toBe('"7"');
    expect(answered).toMatchObject(terminatedBefore);
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers a branch terminated by its main office unchanged, with the main office’s invoicing', async () => {
    ddb.on(GetCommand, { Key: customerKey('hq') }).resolves({
      Item: customerItem(
        mainOffice('hq', {
          ...terminatedBefore,
          hierarchy: { invoicing: 'consolidated', branchCount: 1 },
        }),
      ),
    });
    const terminatedByHq = { reason: 'main_office_terminated', mainOfficeId: 'hq' } as const;
    ddb
      .on(UpdateCommand)
      .rejects(
        conditionFailed(
          customerItem(branchOf('b1', 'hq', { ...terminatedBefore, terminatedBy: terminatedByHq })),
        ),
      );

    const { customer: answered } = await terminateCustomer(ctx, admin, 'b1', noIfMatch);

    expect(answered.terminatedBy).toEqual(terminatedByHq);
    expect(answered.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
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
      customer('c1', { resellerId: 'r2', ...terminatedBefore }),
    ]) {
      ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(foreign)));
      await expect(terminateCustomer(ctx, resellerR1, 'c1', noIfMatch)).rejects.toMatchObject({
        status: 404,
        code: 'not_found',
      });
    }
    expect(ddb.calls()).toHaveLength(3);
  });

  it('answers 412 when only If-Match failed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(customerItem(customer('c1', { version: 4 }))));

    await expect(
      terminateCustomer(ctx, resellerR1, 'c1', parseIfMatch('"3"')),
    ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('sends the update again when its condition failed on an item every guard accepts (a concurrent write)', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed(customerItem(customer('c1'))))
      .resolves({ Attributes: terminatedC1 });

    const { etag } = await terminateCustomer(ctx, resellerR1, 'c1', parseIfMatch('"4"'));

    expect(etag).toBe('"5"');
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });

  it('retries an update that met another request’s transaction, the same way', async () => {
    ddb.on(UpdateCommand).rejectsOnce(transactionConflict()).resolves({ Attributes: terminatedC1 });

    const { etag } = await terminateCustomer(ctx, admin, 'c1', noIfMatch);

    expect(etag).toBe('"5"');
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
