import { describe, expect, it } from 'vitest';
import { eq, notExists } from '../../../../../lib/data/expressions.js';
import { pbxRegistryKey } from '../../../../../lib/data/keys.js';
import type { NumberRegistry } from '../../../../../lib/data/number-registry.js';
import type { WriteRequest } from '../../../../../lib/data/table.js';
import {
  numberConflictsOnLink,
  numberMovesOnLink,
} from '../../../../../lib/domain/hierarchy/number-moves.js';

const registry = (customerId: string, fields: Omit<NumberRegistry, 'customerId'> = {}) => ({
  customerId,
  ...fields,
});

/** What a registry write does to the registry: its key, the sets it changes, its guard. */
function effect(request: WriteRequest | undefined) {
  if (request?.kind !== 'update') throw new Error(`expected an update, got ${request?.kind}`);
  const { set = {}, add, delete: deleted, remove } = request.update;
  return {
    key: request.key,
    reserved:
      'reserved' in set
        ? { set: set.reserved }
        : add?.reserved
          ? { add: add.reserved }
          : deleted?.reserved
            ? { delete: deleted.reserved }
            : remove?.includes('reserved')
              ? 'removed'
              : 'unchanged',
    revisionBumped: 'revision' in set,
    guard: request.condition,
  };
}

/** The writes' effects, in any order: they are items of the panel's transaction. */
function expectEffects(writes: readonly WriteRequest[], expected: readonly unknown[]) {
  expect(writes).toHaveLength(expected.length);
  expect(writes.map(effect)).toEqual(expect.arrayContaining([...expected]));
}

describe('numberConflictsOnLink', () => {
  it('answers the customer’s numbers the group already uses, in numeric order', () => {
    const own = registry('c1', { own: new Set(['100', '9', '55', '10', '2000']), revision: 3 });
    const target = registry('hq', { reserved: new Set(['10', '7', '100', '9', '1000']) });

    expect(numberConflictsOnLink(own, target)).toEqual(['9', '10', '100']);
  });

  it.each([
    ['the target has no reserved set', { own: new Set(['1', '2']) }, { revision: 4 }],
    ['the target registry is absent', { own: new Set(['1', '2']) }, {}],
    ['the customer has no numbers', {}, { reserved: new Set(['1', '2']) }],
    ['the sets do not meet', { own: new Set(['1', '2']) }, { reserved: new Set(['12', '21']) }],
  ])('answers none when %s', (_label, own, target) => {
    expect(numberConflictsOnLink(registry('c1', own), registry('hq', target))).toEqual([]);
  });
});

describe('numberMovesOnLink', () => {
  it('moves a standalone customer’s numbers into the group it joins, each registry guarded by the revision read', () => {
    const own = new Set(['101', '9']);
    const writes = numberMovesOnLink(
      'c1',
      {
        own: registry('c1', { own, reserved: own, revision: 3 }),
        target: registry('hq', { reserved: new Set(['200']), revision: 7 }),
      },
      { from: null, to: 'hq' },
    );

    expectEffects(writes, [
      {
        key: pbxRegistryKey('c1'),
        reserved: 'removed',
        revisionBumped: true,
        guard: eq('revision', 3),
      },
      {
        key: pbxRegistryKey('hq'),
        reserved: { add: own },
        revisionBumped: true,
        guard: eq('revision', 7),
      },
    ]);
  });

  it('guards registries never written by their revision being absent', () => {
    const writes = numberMovesOnLink(
      'c1',
      { own: registry('c1', { own: new Set(['101']) }), target: registry('hq') },
      { from: null, to: 'hq' },
    );

    expect(writes.map((write) => effect(write).guard)).toEqual([
      notExists('revision'),
      notExists('revision'),
    ]);
  });

  it('relinks a branch: its numbers also leave the old group, unguarded', () => {
    const own = new Set(['201', '202']);
    const writes = numberMovesOnLink(
      'b1',
      {
        own: registry('b1', { own, revision: 2 }),
        target: registry('hq2', { reserved: new Set(['300']), revision: 5 }),
      },
      { from: 'hq', to: 'hq2' },
    );

    expectEffects(writes, [
      expect.objectContaining({ key: pbxRegistryKey('b1'), reserved: 'removed' }),
      expect.objectContaining({ key: pbxRegistryKey('hq2'), reserved: { add: own } }),
      {
        key: pbxRegistryKey('hq'),
        reserved: { delete: own },
        revisionBumped: true,
        guard: undefined,
      },
    ]);
  });

  it('unlinks a branch: it roots its own group again, its numbers its reserved set', () => {
    const own = new Set(['201', '202']);
    const writes = numberMovesOnLink(
      'b1',
      { own: registry('b1', { own, revision: 4 }) },
      { from: 'hq', to: null },
    );

    expectEffects(writes, [
      {
        key: pbxRegistryKey('b1'),
        reserved: { set: own },
        revisionBumped: true,
        guard: eq('revision', 4),
      },
      expect.objectContaining({ key: pbxRegistryKey('hq'), reserved: { delete: own } }),
    ]);
  });

  it.each([
    ['a link', { from: null, to: 'hq' }],
    ['a relink', { from: 'hq', to: 'hq2' }],
    ['an unlink', { from: 'hq', to: null }],
  ] as const)(
    'writes only the own registry for %s of a customer without numbers',
    (_label, link) => {
      const writes = numberMovesOnLink(
        'b1',
        {
          own: registry('b1', { own: new Set(), revision: 6 }),
          target: registry('hq', { revision: 1 }),
        },
        link,
      );

      expectEffects(writes, [
        {
          key: pbxRegistryKey('b1'),
          reserved: 'removed',
          revisionBumped: true,
          guard: eq('revision', 6),
        },
      ]);
    },
  );
});
