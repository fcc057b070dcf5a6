import { describe, expect, it } from 'vitest';
import {
  compileEventFilter,
  InvalidFilterPatternError,
} from '../../../../infra/local/event-filter.js';

// A record as Lambda delivers it from a DynamoDB stream.
const customerInsert = {
  eventID: '1',
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: 1_700_000_000,
    Keys: { pk: { S: 'CUSTOMER#1' }, sk: { S: 'PROFILE' } },
    NewImage: {
      pk: { S: 'CUSTOMER#1' },
      sk: { S: 'PROFILE' },
      entityType: { S: 'customer' },
      status: { S: 'terminated' },
      credit: { N: '150' },
      vip: { BOOL: true },
      tags: { SS: ['gold', 'reseller'] },
      address: { M: { city: { S: 'Lyon' } } },
      lines: { L: [{ S: 'line-1' }, { S: 'line-2' }] },
    },
    SequenceNumber: '100',
    SizeBytes: 321,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/label',
};

const matches = (pattern: Record<string, unknown>, record: unknown = customerInsert) =>
  compileEventFilter([pattern])(record);

describe('compileEventFilter', () => {
  it('lets every record through when there are no patterns', () => {
    // Prepare
    const filter = compileEventFilter([]);

    // Act / Assess
    expect(filter(customerInsert)).toBe(true);
  });

  it('matches a literal value in a nested DynamoDB attribute', () => {
    expect(matches({ dynamodb: { NewImage: { entityType: { S: ['customer'] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { entityType: { S: ['invoice'] } } } })).toBe(false);
  });

  it('treats the values listed for one field as alternatives', () => {
    expect(matches({ eventName: ['MODIFY', 'INSERT'] })).toBe(true);
    expect(matches({ eventName: ['MODIFY', 'REMOVE'] })).toBe(false);
  });

  it('requires every field of a pattern to match', () => {
    const pattern = (eventName: string) => ({
      eventName: [eventName],
      dynamodb: { NewImage: { entityType: { S: ['customer'] } } },
    });
    expect(matches(pattern('INSERT'))).toBe(true);
    expect(matches(pattern('REMOVE'))).toBe(false);
  });

  it('passes a record when any of several patterns matches', () => {
    // Prepare
    const filter = compileEventFilter([
      { eventName: ['REMOVE'] },
      { dynamodb: { NewImage: { entityType: { S: ['customer'] } } } },
    ]);

    // Act / Assess
    expect(filter(customerInsert)).toBe(true);
    expect(filter({ ...customerInsert, eventName: 'MODIFY', dynamodb: {} })).toBe(false);
  });

  it('matches boolean literals and number literals of the record', () => {
    expect(matches({ dynamodb: { NewImage: { vip: { BOOL: [true] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { vip: { BOOL: [false] } } } })).toBe(false);
    expect(matches({ dynamodb: { SizeBytes: [321] } })).toBe(true);
    expect(matches({ dynamodb: { SizeBytes: ['321'] } })).toBe(false);
  });

  it('matches a null literal only against a null value', () => {
    expect(matches({ marker: [null] }, { marker: null })).toBe(true);
    expect(matches({ marker: [null] }, {})).toBe(false);
  });

  it('matches when any element of an array in the record matches', () => {
    expect(matches({ dynamodb: { NewImage: { tags: { SS: ['reseller'] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { tags: { SS: ['silver'] } } } })).toBe(false);
    expect(matches({ dynamodb: { NewImage: { lines: { L: { S: ['line-2'] } } } } })).toBe(true);
  });

  it('matches inside DynamoDB maps', () => {
    expect(matches({ dynamodb: { NewImage: { address: { M: { city: { S: ['Lyon'] } } } } } })).toBe(
      true,
    );
  });

  it('does not match a field the record lacks', () => {
    expect(matches({ dynamodb: { OldImage: { entityType: { S: ['customer'] } } } })).toBe(false);
  });

  describe('exists', () => {
    it('matches a present leaf with exists true and an absent one with exists false', () => {
      expect(matches({ dynamodb: { NewImage: { status: { S: [{ exists: true }] } } } })).toBe(true);
      expect(matches({ dynamodb: { NewImage: { status: { S: [{ exists: false }] } } } })).toBe(
        false,
      );
      expect(matches({ dynamodb: { OldImage: { status: { S: [{ exists: false }] } } } })).toBe(
        true,
      );
      expect(matches({ dynamodb: { OldImage: { status: { S: [{ exists: true }] } } } })).toBe(
        false,
      );
    });

    it('sees only leaves, so exists true on an attribute without its type never matches', () => {
      // Lambda documents the same: Exists on an intermediate node does not work.
      expect(matches({ dynamodb: { NewImage: { status: [{ exists: true }] } } })).toBe(false);
    });
  });

  describe('prefix', () => {
    it('matches strings starting with the prefix', () => {
      expect(matches({ dynamodb: { Keys: { pk: { S: [{ prefix: 'CUSTOMER#' }] } } } })).toBe(true);
      expect(matches({ dynamodb: { Keys: { pk: { S: [{ prefix: 'DID#' }] } } } })).toBe(false);
    });

    it('never matches a number', () => {
      expect(matches({ dynamodb: { SizeBytes: [{ prefix: '3' }] } })).toBe(false);
    });
  });

  describe('anything-but', () => {
    it('matches any value but the listed ones', () => {
      const notIn = (excluded: unknown) =>
        matches({ dynamodb: { NewImage: { status: { S: [{ 'anything-but': excluded }] } } } });
      expect(notIn(['active', 'suspended'])).toBe(true);
      expect(notIn(['active', 'terminated'])).toBe(false);
      expect(notIn('terminated')).toBe(false);
      expect(notIn('active')).toBe(true);
    });

    it('matches any value but those starting with a prefix', () => {
      const notPrefixed = (prefix: string) =>
        matches({ dynamodb: { Keys: { pk: { S: [{ 'anything-but': { prefix } }] } } } });
      expect(notPrefixed('DID#')).toBe(true);
      expect(notPrefixed('CUSTOMER#')).toBe(false);
    });

    it('does not match a field the record lacks', () => {
      expect(
        matches({ dynamodb: { OldImage: { status: { S: [{ 'anything-but': 'x' }] } } } }),
      ).toBe(false);
    });
  });

  describe('numeric', () => {
    it('compares with one condition', () => {
      expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['>', 300] }] } })).toBe(true);
      expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['<', 300] }] } })).toBe(false);
      expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['=', 321] }] } })).toBe(true);
    });

    it('compares with a range of two conditions, bounds included or not', () => {
      const inRange = (range: unknown[]) =>
        matches({ dynamodb: { SizeBytes: [{ numeric: range }] } });
      expect(inRange(['>', 300, '<=', 321])).toBe(true);
      expect(inRange(['>=', 321, '<', 400])).toBe(true);
      expect(inRange(['>', 321, '<', 400])).toBe(false);
      expect(inRange(['>', 0, '<', 321])).toBe(false);
    });

    it('never matches a DynamoDB number, which the record carries as a string', () => {
      expect(
        matches({ dynamodb: { NewImage: { credit: { N: [{ numeric: ['>', 100] }] } } } }),
      ).toBe(false);
      expect(matches({ dynamodb: { NewImage: { credit: { N: ['150'] } } } })).toBe(true);
    });
  });

  describe('invalid patterns', () => {
    it.each([
      ['a bare value instead of a list', { eventName: 'INSERT' }],
      ['an empty list of rules', { eventName: [] }],
      ['an unknown operator', { eventName: [{ suffix: 'RT' }] }],
      ['a rule object with two operators', { eventName: [{ prefix: 'I', exists: true }] }],
      ['a non-boolean exists', { eventName: [{ exists: 'yes' }] }],
      ['a numeric rule with an unknown operator', { n: [{ numeric: ['!=', 1] }] }],
      ['a numeric rule with three elements', { n: [{ numeric: ['>', 1, '<'] }] }],
      ['a numeric rule with a string bound', { n: [{ numeric: ['>', '1'] }] }],
      ['an empty anything-but list', { n: [{ 'anything-but': [] }] }],
      ['an anything-but with an unknown operator', { n: [{ 'anything-but': { suffix: 'x' } }] }],
    ])('rejects %s when compiling', (_name, pattern) => {
      expect(() => compileEventFilter([pattern])).toThrow(InvalidFilterPatternError);
    });
  });
});
