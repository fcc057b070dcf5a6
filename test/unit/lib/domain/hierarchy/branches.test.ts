import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { customerKey } from '../../../../../lib/data/keys.js';
import { listBranches } from '../../../../../lib/domain/hierarchy/branches.js';
import { valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, mainOffice } from '../../../../fixtures/customer-records.js';
import { admin, unitContext as ctx, resellerR1 } from '../../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand, { Key: customerKey('hq') }).resolves({ Item: customerItem(mainOffice('hq')) });
  ddb.on(GetCommand, { Key: customerKey('foreign') }).resolves({
    Item: customerItem(mainOffice('foreign', { resellerId: 'r2' })),
  });
});

const branchItems = (mainOfficeId: string, ...ids: string[]) =>
  ids.map((id) => customerItem(branchOf(id, mainOfficeId)));

const decoded = (cursor: string | null) =>
  JSON.parse(Buffer.from(cursor ?? '', 'base64url').toString('utf8'));

describe('listBranches', () => {
  it('answers one page from the branches index, read beside the main office', async () => {
    ddb.on(QueryCommand).resolves({ Items: branchItems('hq', 'b1', 'b2', 'b3') });

    const page = await listBranches(ctx, resellerR1, 'hq', { limit: 2 });

    expect(page.items).toEqual([
      { id: 'b1', name: 'Customer b1', status: 'active' },
      { id: 'b2', name: 'Customer b2', status: 'active' },
    ]);
    expect(decoded(page.nextCursor)).toEqual({
      pk: 'CUSTOMER#b2',
      sk: 'CUSTOMER',
      mainOfficePk: 'BRANCHES#hq',
      nameSk: 'customer b2#b2',
    });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 1);
    const input = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    // One item more than the page tells whether another page follows.
    expect(input).toMatchObject({ IndexName: 'branchesByMainOffice', Limit: 3 });
    expect(valuesIn(input)).toContain('BRANCHES#hq');
  });

  it('starts after the cursor and ends the list with a null cursor', async () => {
    const first = branchItems('hq', 'b1', 'b2', 'b3');
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: first })
      .resolvesOnce({ Items: first.slice(2) });

    const { nextCursor } = await listBranches(ctx, admin, 'hq', { limit: 2 });
    const second = await listBranches(ctx, admin, 'hq', { limit: 2, cursor: nextCursor ?? '' });

    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual(
      decoded(nextCursor),
    );
    expect(second).toEqual({
      items: [{ id: 'b3', name: 'Customer b3', status: 'active' }],
      nextCursor: null,
    });
  });

  it('refuses a cursor of another main office’s list with 400', async () => {
    ddb.on(QueryCommand).resolves({ Items: branchItems('foreign', 'b1', 'b2') });
    const { nextCursor } = await listBranches(ctx, admin, 'foreign', { limit: 1 });

    await expect(
      listBranches(ctx, admin, 'hq', { limit: 1, cursor: nextCursor ?? '' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it.each([
    ['another reseller’s main office', resellerR1, 'foreign'],
    ['an absent one', admin, 'absent'],
    ['another customer’s, for the customer role', { role: 'customer', customerId: 'b1' }, 'hq'],
  ] as const)('answers 404 for %s', async (_label, caller, id) => {
    ddb.on(GetCommand, { Key: customerKey('absent') }).resolves({});
    ddb.on(QueryCommand).resolves({ Items: branchItems(id, 'b1') });

    await expect(listBranches(ctx, caller, id, { limit: 25 })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
