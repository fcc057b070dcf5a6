import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../../../lib/domain/access.js';
import { listPbxItems } from '../../../../../lib/domain/pbx/list.js';
import { admin, unitContext as ctx, resellerR1 } from '../../../../fixtures/service-context.js';
import {
  customerKey,
  ddb,
  extensionItem,
  gets,
  huntGroupItem,
  offices,
  queries,
  store,
} from './support.js';

type Page = Record<string, unknown>[];

const partitionOf = (input: QueryCommandInput) =>
  Object.values(input.ExpressionAttributeValues ?? {}).find(
    (value) => typeof value === 'string' && value.startsWith('CUSTOMER#'),
  ) as string;

/**
 * Each owner's partition answers its queries with the pages given, one per query in
 * the order asked, as DynamoDB would have cut them; an owner not given has none.
 */
function answerQueries(pages: Record<string, Page[]>) {
  ddb.on(QueryCommand).callsFake(async (input: QueryCommandInput) => ({
    Items: pages[partitionOf(input).slice('CUSTOMER#'.length)]?.shift() ?? [],
  }));
}

/** What each query asked for: the partition, the sort-key bounds, how many, how consistent. */
const asked = () =>
  queries().map((input) => ({
    values: new Set(Object.values(input.ExpressionAttributeValues ?? {})),
    limit: input.Limit,
    consistent: input.ConsistentRead,
  }));
const firstPage = (owner: string, prefix: string, limit: number) => ({
  values: new Set([`CUSTOMER#${owner}`, prefix]),
  limit: limit + 1,
  consistent: true,
});
const pageAfter = (owner: string, prefix: string, after: string, limit: number) => ({
  values: new Set([`CUSTOMER#${owner}`, `${after}\u0000`, `${prefix}\uffff`]),
  limit: limit + 1,
  consistent: true,
});

const cursorOf = (sk: string) => Buffer.from(sk).toString('base64url');
const extension = (number: string, inheritedFrom: string | null) => ({
  number,
  name: `Extension ${number}`,
  accountNumber: null,
  inheritedFrom,
});

beforeEach(() => {
  store(...offices());
  answerQueries({});
});

describe('listPbxItems', () => {
  it('reads a root customer and one page of its own items, in one round trip', async () => {
    answerQueries({
      c1: [
        [
          extensionItem('c1', '9', { accountNumber: '+4930100000' }),
          extensionItem('c1', '10'),
          extensionItem('c1', '100'),
        ],
      ],
    });

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
    expect(gets()).toEqual([customerKey('c1')]);
    expect(asked()).toEqual([firstPage('c1', 'EXTENSION#', 25)]);
  });

  it('merges a branch’s own items with its main office’s, read after the customer, in numeric order', async () => {
    answerQueries({
      b1: [[extensionItem('b1', '10'), extensionItem('b1', '300')]],
      hq: [[extensionItem('hq', '9'), extensionItem('hq', '100'), extensionItem('hq', '2000')]],
    });

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
    // The main office is known only from the customer's record.
    expect(ddb.calls().map((call) => call.args[0].constructor)).toEqual([
      GetCommand,
      QueryCommand,
      QueryCommand,
    ]);
    expect(asked()).toEqual([firstPage('b1', 'EXTENSION#', 25), firstPage('hq', 'EXTENSION#', 25)]);
  });

  it('shows a main office its own items only, with inheritedFrom null', async () => {
    answerQueries({ hq: [[extensionItem('hq', '9')]], b1: [[extensionItem('b1', '10')]] });

    await expect(listPbxItems(ctx, admin, 'hq', 'extension', { limit: 25 })).resolves.toStrictEqual(
      { items: [extension('9', null)], nextCursor: null },
    );
    expect(asked()).toEqual([firstPage('hq', 'EXTENSION#', 25)]);
  });

  it('lists hunt groups with their members and strategy, inherited ones marked', async () => {
    answerQueries({
      b1: [
        [
          huntGroupItem(
            'b1',
            '80',
            [
              { number: '101', ownerId: 'hq' },
              { number: '201', ownerId: 'b1' },
            ],
            { strategy: 'sequential' },
          ),
        ],
      ],
      hq: [[huntGroupItem('hq', '700', [{ number: '101', ownerId: 'hq' }])]],
    });

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
    expect(asked()).toEqual([
      firstPage('b1', 'HUNT_GROUP#', 25),
      firstPage('hq', 'HUNT_GROUP#', 25),
    ]);
  });

  it('pages through the merge with a cursor of the last sort key, each item once', async () => {
    answerQueries({
      b1: [
        [extensionItem('b1', '10'), extensionItem('b1', '300')],
        [extensionItem('b1', '300')],
        [],
      ],
      hq: [
        [extensionItem('hq', '9'), extensionItem('hq', '100'), extensionItem('hq', '2000')],
        [extensionItem('hq', '100'), extensionItem('hq', '2000')],
        [extensionItem('hq', '2000')],
      ],
    });

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
    expect(asked()).toEqual([
      pageAfter('b1', 'EXTENSION#', 'EXTENSION#2#10', 2),
      pageAfter('hq', 'EXTENSION#', 'EXTENSION#2#10', 2),
    ]);

    const third = await listPbxItems(ctx, admin, 'b1', 'extension', {
      limit: 2,
      cursor: second.nextCursor ?? '',
    });
    expect(third).toStrictEqual({ items: [extension('2000', 'hq')], nextCursor: null });
  });

  it('ends a list whose last page is exactly full with a null cursor', async () => {
    answerQueries({ c1: [[extensionItem('c1', '1'), extensionItem('c1', '2')]] });

    await expect(listPbxItems(ctx, admin, 'c1', 'extension', { limit: 2 })).resolves.toMatchObject({
      nextCursor: null,
    });
  });

  it('accepts a hunt-group cursor on the hunt-group list', async () => {
    answerQueries({ c1: [[huntGroupItem('c1', '6', [])]] });

    await expect(
      listPbxItems(ctx, admin, 'c1', 'huntGroup', { limit: 5, cursor: cursorOf('HUNT_GROUP#1#5') }),
    ).resolves.toMatchObject({ items: [{ number: '6' }], nextCursor: null });
    expect(asked()).toEqual([pageAfter('c1', 'HUNT_GROUP#', 'HUNT_GROUP#1#5', 5)]);
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
    await expect(
      listPbxItems(ctx, admin, 'c1', 'extension', { limit: 25, cursor }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ path: 'query.cursor' }],
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
  ])('answers 404 for %s, reading nothing of a main office', async (_label, caller, id) => {
    answerQueries({ c1: [[extensionItem('c1', '9')]], hq: [[extensionItem('hq', '1')]] });

    await expect(listPbxItems(ctx, caller, id, 'extension', { limit: 25 })).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(queries().map(partitionOf)).toEqual([`CUSTOMER#${id}`]);
  });
});
