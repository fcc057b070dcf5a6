import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageFrom } from '../../../../lib/data/pagination.js';
import { AppError } from '../../../../lib/errors.js';

const attributes = ['pk', 'sk', 'resellerPk', 'nameSk'];
const partition = { attribute: 'resellerPk', value: 'RESELLER#r1' };
const key = { pk: 'CUSTOMER#1', sk: 'CUSTOMER', resellerPk: 'RESELLER#r1', nameSk: 'a#1' };

const rejects = (cursor: string) => {
  expect(() => decodeCursor(cursor, attributes, partition)).toThrow(AppError);
};

describe('cursors', () => {
  it('round-trips the key of the last item', () => {
    expect(decodeCursor(encodeCursor(key), attributes, partition)).toEqual(key);
  });

  it('refuses garbage, wrong shapes and keys of another partition', () => {
    rejects('%%%');
    rejects(encodeCursor({ pk: 'x' }));
    rejects(Buffer.from('[1,2]').toString('base64url'));
    rejects(encodeCursor({ ...key, resellerPk: 'RESELLER#r2' }));
    rejects(encodeCursor({ ...key, extra: 'x' }));
  });
});

describe('pages', () => {
  const items = [1, 2, 3].map((n) => ({ ...key, pk: `CUSTOMER#${n}`, n }));

  it('has a cursor when the query returned more than the page', () => {
    const page = pageFrom(items, 2, attributes, (item) => item.n);
    expect(page.items).toEqual([1, 2]);
    expect(decodeCursor(page.nextCursor ?? '', attributes, partition).pk).toBe('CUSTOMER#2');
  });

  it('has no cursor when the list ends on this page', () => {
    expect(pageFrom(items, 3, attributes, (item) => item.n)).toEqual({
      items: [1, 2, 3],
      nextCursor: null,
    });
  });
});
