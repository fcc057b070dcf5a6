import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  createTable,
  type Engine,
  startMoto,
  useLocalCredentials,
} from '../../infra/local/engine.js';
import { createDocumentClient, type Db } from '../../lib/data/client.js';
import { defineEntity } from '../../lib/data/entity.js';
import {
  and,
  contains,
  copyOf,
  eq,
  exists,
  gte,
  increment,
  ne,
  not,
  notExists,
  oneOf,
  or,
} from '../../lib/data/expressions.js';
import {
  beginIdempotentRequest,
  completeIdempotentRequest,
  releaseIdempotentRequest,
} from '../../lib/data/idempotency-record.js';
import { getItem, queryItems, transact, WriteConflict, writeItem } from '../../lib/data/table.js';

/**
 * The data layer against the real engine: conditions and updates compiled by
 * lib/data/expressions.ts mean what they say, and failed conditions become the
 * errors their requests declare.
 */
let engine: Engine;
let db: Db;

const notes = defineEntity({
  // Any registered type will do: the layer only stamps it.
  type: 'systemConfig',
  schema: z.object({
    id: z.string(),
    owner: z.string(),
    count: z.number().optional(),
    tags: z.set(z.string()).optional(),
    meta: z.object({ state: z.string() }).optional(),
  }),
  keyOf: (note) => ({ pk: `NOTE#${note.id}`, sk: 'NOTE' }),
  derived: (note) => ({ ownerPk: `OWNER#${note.owner}` }),
});
const key = (id: string) => ({ pk: `NOTE#${id}`, sk: 'NOTE' });

class Refused extends Error {
  constructor(readonly current: unknown) {
    super('refused');
  }
}

beforeAll(async () => {
  useLocalCredentials();
  engine = await startMoto();
  await createTable(engine.endpoint, 'data-layer');
  db = { client: createDocumentClient(engine.endpoint), tableName: 'data-layer' };
});

afterAll(async () => {
  await engine?.stop();
});

describe('single writes', () => {
  it('stamps entityType and the derived attributes on every put, and refuses a second put on notExists', async () => {
    await writeItem(db, notes.put({ id: 'a', owner: 'o1' }, { condition: notExists('pk') }));
    expect(await getItem(db, key('a'))).toMatchObject({
      entityType: 'systemConfig',
      ownerPk: 'OWNER#o1',
      id: 'a',
    });
    const again = await writeItem(
      db,
      notes.put({ id: 'a', owner: 'o2' }, { condition: notExists('pk') }),
    );
    expect(again).toMatchObject({ written: false, current: { owner: 'o1' } });
    expect((await notes.get(db, key('a')))?.owner).toBe('o1');
  });

  it('raises the declared error with the item as it was', async () => {
    const write = notes.update(
      key('a'),
      { set: { owner: 'o3' } },
      { condition: eq('owner', 'nobody'), onConditionFailed: (current) => new Refused(current) },
    );
    const error = await writeItem(db, write).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Refused);
    expect((error as Refused).current).toMatchObject({ id: 'a', owner: 'o1' });
  });

  it('stamps entityType on an item its first update creates, and counts from a start', async () => {
    await writeItem(db, notes.update(key('counter'), { set: { count: increment(5, 10) } }));
    await writeItem(db, notes.update(key('counter'), { set: { count: increment(5, 10) } }));
    expect(await getItem(db, key('counter'))).toMatchObject({
      entityType: 'systemConfig',
      count: 20,
    });
  });

  it('adds to and deletes from sets, sets nested paths and removes attributes', async () => {
    await writeItem(
      db,
      notes.put({ id: 'b', owner: 'o1', meta: { state: 'new' }, tags: new Set(['x']) }),
    );
    await writeItem(
      db,
      notes.update(key('b'), {
        set: { 'meta.state': 'used' },
        add: { tags: new Set(['y', 'z']) },
        remove: ['ownerPk'],
      }),
    );
    await writeItem(db, notes.update(key('b'), { delete: { tags: new Set(['x']) } }));
    const item = await getItem(db, key('b'));
    expect(item).toMatchObject({ meta: { state: 'used' }, tags: new Set(['y', 'z']) });
    expect(item).not.toHaveProperty('ownerPk');
  });

  it('copies one attribute of the item into another, as it stands before the update', async () => {
    await writeItem(db, notes.put({ id: 'copy', owner: 'o1' }));
    await writeItem(
      db,
      notes.update(key('copy'), { set: { ownerPk: copyOf('owner'), owner: 'o2' } }),
    );
    expect(await getItem(db, key('copy'))).toMatchObject({ owner: 'o2', ownerPk: 'o1' });
  });

  it('evaluates and, or, not, in, contains, comparisons and exists as written', async () => {
    const attempt = (condition: Parameters<typeof and>[0]) =>
      writeItem(db, notes.update(key('b'), { set: { count: 1 } }, { condition }));
    const cases = [
      [and(eq('owner', 'o1'), contains('tags', 'y')), true],
      [and(eq('owner', 'o1'), contains('tags', 'x')), false],
      [or(eq('owner', 'o9'), oneOf('meta.state', ['new', 'used'])), true],
      [not(exists('meta')), false],
      [and(ne('owner', 'o1')), false],
      [and(exists('pk'), or(notExists('count'), gte('count', 1))), true],
      // One-condition groups nested in others (DynamoDB refuses redundant parentheses).
      [and(or(ne('owner', 'o2')), and(exists('pk')), not(and(eq('owner', 'o9')))), true],
      // Precedence: A AND (B OR C) with A false must fail even when C holds.
      [and(eq('owner', 'o9'), or(eq('owner', 'o1'), exists('pk'))), false],
    ] as const;
    for (const [condition, expected] of cases) {
      expect((await attempt(condition)).written, JSON.stringify(condition)).toBe(expected);
    }
  });
});

describe('transactions', () => {
  it('raises the declared error of the first request whose condition failed', async () => {
    await writeItem(db, notes.put({ id: 'c', owner: 'o1' }));
    const error = await transact(db, [
      notes.put({ id: 'd', owner: 'o1' }, { condition: notExists('pk') }),
      notes.check(key('c'), eq('owner', 'o2'), (current) => new Refused(current)),
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Refused);
    expect((error as Refused).current).toMatchObject({ id: 'c', owner: 'o1' });
    expect(await getItem(db, key('d'))).toBeUndefined();
  });

  it('raises WriteConflict for a failed condition that declares no error, and writes nothing', async () => {
    const error = await transact(db, [
      notes.put({ id: 'e', owner: 'o1' }),
      notes.check(key('c'), eq('owner', 'o2')),
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WriteConflict);
    expect(await getItem(db, key('e'))).toBeUndefined();
  });

  it('writes every request when every condition holds', async () => {
    await transact(db, [
      notes.put({ id: 'f', owner: 'o1' }, { condition: notExists('pk') }),
      notes.update(key('c'), { set: { count: increment(1) } }, { condition: eq('owner', 'o1') }),
    ]);
    expect(await getItem(db, key('f'))).toMatchObject({ owner: 'o1' });
    expect(await getItem(db, key('c'))).toMatchObject({ count: 1 });
  });
});

describe('queries', () => {
  it('reads one partition by sort-key prefix and range, a page at a time', async () => {
    for (const sk of ['ITEM#1', 'ITEM#2', 'ITEM#3', 'OTHER#1']) {
      await writeItem(db, { kind: 'put', item: { pk: 'LIST', sk } });
    }
    const first = await queryItems(db, {
      key: { partition: ['pk', 'LIST'], sort: { attribute: 'sk', beginsWith: 'ITEM#' } },
      limit: 2,
    });
    expect(first.items.map((item) => item.sk)).toEqual(['ITEM#1', 'ITEM#2']);
    const rest = await queryItems(db, {
      key: { partition: ['pk', 'LIST'], sort: { attribute: 'sk', beginsWith: 'ITEM#' } },
      startKey: first.lastKey,
    });
    expect(rest.items.map((item) => item.sk)).toEqual(['ITEM#3']);
    const range = await queryItems(db, {
      key: { partition: ['pk', 'LIST'], sort: { attribute: 'sk', between: ['ITEM#2', 'OTHER#1'] } },
      projection: ['sk'],
    });
    expect(range.items).toEqual([{ sk: 'ITEM#2' }, { sk: 'ITEM#3' }, { sk: 'OTHER#1' }]);
  });
});

describe('idempotency claims', () => {
  const request = { scope: 'admin\nPOST /customers\nnull\nkey-1', requestDigest: 'body-1' };
  const answer = (body: string) => ({ statusCode: 201, headers: {}, body });

  it('lets only the request still holding the lease complete or release the key', async () => {
    const first = await beginIdempotentRequest(db, request, new Date(1_000), 10);
    // The first request's Lambda stalls past its lease; a retry takes the key over.
    const second = await beginIdempotentRequest(db, request, new Date(2_000), 30_000);
    if (first.kind !== 'started' || second.kind !== 'started') throw new Error('not claimed');

    expect(await completeIdempotentRequest(db, first.claim, answer('first'))).toBe(false);
    await releaseIdempotentRequest(db, first.claim);
    expect(await getItem(db, second.claim.recordKey)).toMatchObject({ status: 'in_progress' });

    expect(await completeIdempotentRequest(db, second.claim, answer('second'))).toBe(true);
    const replay = await beginIdempotentRequest(db, request, new Date(3_000), 30_000);
    expect(replay).toEqual({ kind: 'replay', response: answer('second') });
  });
});
