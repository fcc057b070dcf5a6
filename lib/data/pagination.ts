import { validationFailed } from '../errors.js';
import type { Db } from './client.js';
import { type Item, queryItems } from './table.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

type Key = Record<string, string>;

/** DynamoDB's limit for a sort key; partition keys are shorter still in this table. */
const maxKeyBytes = 1024;

/** A cursor this list did not issue (or one of another list): 400, reported on the query parameter. */
export const invalidCursor = () =>
  validationFailed([{ path: 'query.cursor', message: 'is not a cursor of this list' }]);

/** Cursors are opaque to callers: base64url JSON of the last item's key. */
export const encodeCursor = (key: Key): string =>
  Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

/**
 * Decodes a cursor and checks that it names exactly the expected key attributes
 * and stays in the expected partition, so a forged cursor cannot page into
 * another tenant's data.
 */
export function decodeCursor(
  cursor: string,
  attributes: readonly string[],
  partition: { readonly attribute: string; readonly value: string },
  /** Further checks of the key's shape, so DynamoDB never sees a start key it would refuse. */
  isValidKey: (key: Key) => boolean = () => true,
): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  const entries = Object.entries(parsed);
  const wellFormed =
    entries.length === attributes.length &&
    entries.every(
      ([name, value]) =>
        attributes.includes(name) &&
        typeof value === 'string' &&
        value.length > 0 &&
        value.isWellFormed() &&
        Buffer.byteLength(value) <= maxKeyBytes,
    );
  if (!wellFormed) throw invalidCursor();
  const key = parsed as Key;
  if (key[partition.attribute] !== partition.value || !isValidKey(key)) throw invalidCursor();
  return key;
}

/**
 * Queries ask for one item more than the page: when it comes back there is a
 * next page, and the cursor is the key of the page's last item. A page that ends
 * the list therefore says so (nextCursor null) instead of costing an empty read.
 */
export function pageFrom<I extends Record<string, unknown>, T>(
  items: readonly I[],
  limit: number,
  keyAttributes: readonly string[],
  toOutput: (item: I) => T,
): Page<T> {
  const pageItems = items.slice(0, limit);
  const last = pageItems.at(-1);
  const nextCursor =
    items.length > limit && last
      ? encodeCursor(Object.fromEntries(keyAttributes.map((name) => [name, String(last[name])])))
      : null;
  return { items: pageItems.map(toOutput), nextCursor };
}

const tablePageKey = ['pk', 'sk'];

/**
 * One page of the items of one table partition whose sort keys start with a prefix
 * (a customer's DIDs, its invoices): one strongly consistent Query, the cursor checked
 * to stay in that partition and prefix.
 */
export async function queryPartitionPage<T>(
  db: Db,
  where: { readonly partition: string; readonly sortPrefix: string; readonly descending?: true },
  page: { readonly limit: number; readonly cursor?: string | undefined },
  parse: (item: Item) => T,
): Promise<Page<T>> {
  const startKey = page.cursor
    ? decodeCursor(
        page.cursor,
        tablePageKey,
        { attribute: 'pk', value: where.partition },
        (key) => key.sk?.startsWith(where.sortPrefix) === true,
      )
    : undefined;
  const { items } = await queryItems(db, {
    key: {
      partition: ['pk', where.partition],
      sort: { attribute: 'sk', beginsWith: where.sortPrefix },
    },
    limit: page.limit + 1,
    startKey,
    scanForward: where.descending ? false : undefined,
  });
  return pageFrom(items, page.limit, tablePageKey, parse);
}
