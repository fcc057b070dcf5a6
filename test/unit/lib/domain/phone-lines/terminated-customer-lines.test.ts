import {
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CustomerRecord } from '../../../../../lib/data/customer.js';
import { denyLinesOfTerminatedCustomer } from '../../../../../lib/domain/phone-lines/terminated-customer-lines.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { customer } from '../../../../fixtures/customer-records.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import { unitContext as ctx } from '../../../../fixtures/service-context.js';
import {
  accountLine,
  aliasLine,
  ddb,
  gets,
  lineCountKey,
  lineKey,
  ownerQueried,
  store,
  terminated,
} from './support.js';

const c1 = (): CustomerRecord => customer('c1', terminated);
const lineCount = (id: string, count: number) => ({
  ...lineCountKey(id),
  entityType: 'lineCounter',
  lineCount: count,
});

const firstAccount = '+4930200001';
const secondAccount = '+4930200002';
const aliasOf = (index: number) => `+49303${String(index).padStart(5, '0')}`;

/**
 * The `linesByOwner` index as the queries see it: the lines a test lists under an
 * owner partition, by number, paged by Limit and ExclusiveStartKey.
 */
let index: Map<string, Record<string, unknown>[]>;
const list = (...lines: Record<string, unknown>[]) => {
  for (const line of lines) {
    const owner = String(line.ownerPk);
    index.set(owner, [...(index.get(owner) ?? []), line]);
  }
};

function queryIndex(input: QueryCommandInput) {
  const owner = ownerQueried(input);
  const rows = [...(index.get(String(owner)) ?? [])].sort((a, b) =>
    String(a.number) < String(b.number) ? -1 : 1,
  );
  const after = input.ExclusiveStartKey?.number;
  const from = after === undefined ? rows : rows.filter((line) => String(line.number) > after);
  const limit = input.Limit ?? from.length;
  const items = from.slice(0, limit);
  const last = items.at(-1);
  return {
    Items: items,
    LastEvaluatedKey:
      from.length > limit && last
        ? { pk: last.pk, sk: last.sk, ownerPk: last.ownerPk, number: last.number }
        : undefined,
  };
}

beforeEach(() => {
  index = new Map();
  ddb.on(QueryCommand).callsFake(async (input: QueryCommandInput) => queryIndex(input));
});

const owners = () => ddb.commandCalls(QueryCommand).map((call) => ownerQueried(call.args[0].input));
const marked = () =>
  ddb.commandCalls(UpdateCommand).map((call) => String(call.args[0].input.Key?.pk).slice(6));

describe('denyLinesOfTerminatedCustomer', () => {
  it.each([
    ['no line counter', []],
    ['a line counter of 0', [lineCount('c1', 0)]],
  ])('reads the line counter once and does nothing else with %s', async (_label, items) => {
    store(...items);
    list(accountLine(firstAccount));

    await denyLinesOfTerminatedCustomer(ctx, c1());

    expect(ddb.calls()).toHaveLength(1);
    expect(gets()).toEqual([lineCountKey('c1')]);
  });

  it('reads a counter written before it was typed', async () => {
    store({ ...lineCountKey('c1'), lineCount: 1 });
    list(accountLine(firstAccount));

    await denyLinesOfTerminatedCustomer(ctx, c1());

    expect(marked()).toEqual([firstAccount]);
  });

  it('pages through the accounts, then each account’s aliases, marking every line terminated with its next version', async () => {
    const aliases = Array.from({ length: 150 }, (_, at) => aliasOf(at));
    store(lineCount('c1', 153));
    list(
      accountLine(firstAccount),
      accountLine(secondAccount),
      ...aliases.map((number) => aliasLine(number, firstAccount, 'system')),
      aliasLine('+4930400000', secondAccount, 'enabled'),
    );

    await denyLinesOfTerminatedCustomer(ctx, c1());

    // Lines are marked 16 at a time: the two accounts' alias walks interleave.
    expect(owners()[0]).toBe('ACCOUNTS#c1');
    expect([...owners()].sort()).toEqual([
      'ACCOUNTS#c1',
      `ALIASES#${firstAccount}`,
      `ALIASES#${firstAccount}`,
      `ALIASES#${secondAccount}`,
    ]);
    expect([...marked()].sort()).toEqual(
      [firstAccount, ...aliases, secondAccount, '+4930400000'].sort(),
    );
    const [update] = ddb
      .commandCalls(UpdateCommand, { Key: lineKey(firstAccount) })
      .map((call) => call.args[0].input);
    expect(namesIn(update)).toEqual(
      expect.arrayContaining(['customerStatus', 'version', 'entityType']),
    );
    expect(valuesIn(update)).toEqual(expect.arrayContaining(['terminated', 'phoneLine', 1]));
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
  });

  it('counts a line marked already (the record delivered again) without changing it', async () => {
    store(lineCount('c1', 2));
    const markedAccount = accountLine(firstAccount, { customerStatus: 'terminated', version: 3 });
    list(markedAccount, aliasLine(aliasOf(1), firstAccount, 'enabled'));
    ddb.on(UpdateCommand, { Key: lineKey(firstAccount) }).rejects(conditionFailed(markedAccount));

    await expect(denyLinesOfTerminatedCustomer(ctx, c1())).resolves.toBeUndefined();
    expect(marked()).toEqual([firstAccount, aliasOf(1)]);
  });

  it('throws after marking what the index shows when it shows fewer lines than counted, and succeeds once it caught up', async () => {
    store(lineCount('c1', 3));
    list(accountLine(firstAccount), aliasLine(aliasOf(1), firstAccount, 'enabled'));

    await expect(denyLinesOfTerminatedCustomer(ctx, c1())).rejects.toThrow(
      'Customer c1: marked 2 of 3 lines; the index is catching up',
    );
    expect(marked()).toEqual([firstAccount, aliasOf(1)]);

    ddb.resetHistory();
    list(aliasLine(aliasOf(2), firstAccount, 'enabled'));
    await denyLinesOfTerminatedCustomer(ctx, c1());
    expect(marked()).toEqual([firstAccount, aliasOf(1), aliasOf(2)]);
  });

  it('lets a failed update through', async () => {
    store(lineCount('c1', 1));
    list(accountLine(firstAccount));
    const throttled = new Error('throttled');
    ddb.on(UpdateCommand).rejects(throttled);

    await expect(denyLinesOfTerminatedCustomer(ctx, c1())).rejects.toBe(throttled);
  });
});
