import * as z from 'zod';
import type { Db } from './client.js';
import type { Condition, UpdateSpec } from './expressions.js';
import { customerPartitionPrefix, type EntityType } from './keys.js';
import { batchGetItems, getItem, type Item, itemId, type Key, type WriteRequest } from './table.js';

/**
 * One stored entity: its zod schema, where it lives, and the attributes its indexes
 * need. Every item it writes carries `entityType` (puts and updates alike, so an
 * item first created by an UpdateItem is typed too), every item it reads is parsed
 * with its schema, and its writes name the error their condition's failure means.
 */
export interface EntityDefinition<S extends z.ZodType> {
  readonly type: EntityType;
  readonly schema: S;
  readonly keyOf: (record: z.output<S>) => Key;
  /** Index and condition attributes that follow from the record's state. */
  readonly derived?: (record: z.output<S>) => Item;
}

/** What a failed condition of an entity's write means, given the entity as it was. */
export type EntityConditionFailure<T> = (current: T | undefined) => Error;

interface WriteOptions<T> {
  readonly condition?: Condition;
  readonly onConditionFailed?: EntityConditionFailure<T>;
}

export function defineEntity<S extends z.ZodType>(definition: EntityDefinition<S>) {
  type Record = z.output<S>;
  const parse = (item: Item): Record => definition.schema.parse(item);
  const failure = (onConditionFailed: EntityConditionFailure<Record> | undefined) =>
    onConditionFailed
      ? (current: Item | undefined) => onConditionFailed(current ? parse(current) : undefined)
      : undefined;
  const toItem = (record: Record): Item & Key => ({
    ...definition.keyOf(record),
    entityType: definition.type,
    ...definition.derived?.(record),
    ...(record as Item),
  });
  return {
    type: definition.type,
    parse,
    toItem,
    /** Strongly consistent read of one item, parsed; undefined when absent. */
    async get(db: Db, key: Key): Promise<Record | undefined> {
      const item = await getItem(db, key);
      return item ? parse(item) : undefined;
    },
    /** Strongly consistent read of several (at most 100) in one round trip, by key. */
    async getMany(db: Db, keys: readonly Key[]): Promise<Map<string, Record>> {
      const items = await batchGetItems(db, keys);
      return new Map([...items].map(([id, item]) => [id, parse(item)]));
    },
    /** Picks this entity out of a mixed BatchGetItem answer. */
    from(items: ReadonlyMap<string, Item>, key: Key): Record | undefined {
      const item = items.get(itemId(key));
      return item ? parse(item) : undefined;
    },
    put(record: Record, options: WriteOptions<Record> = {}): WriteRequest {
      return {
        kind: 'put',
        item: toItem(record),
        condition: options.condition,
        onConditionFailed: failure(options.onConditionFailed),
      };
    },
    update(key: Key, update: UpdateSpec, options: WriteOptions<Record> = {}): WriteRequest {
      return {
        kind: 'update',
        key,
        update: { ...update, set: { ...update.set, entityType: definition.type } },
        condition: options.condition,
        onConditionFailed: failure(options.onConditionFailed),
      };
    },
    delete(key: Key, options: WriteOptions<Record> = {}): WriteRequest {
      return {
        kind: 'delete',
        key,
        condition: options.condition,
        onConditionFailed: failure(options.onConditionFailed),
      };
    },
    /** A condition on this entity inside a transaction that writes others. */
    check(
      key: Key,
      condition: Condition,
      onConditionFailed?: EntityConditionFailure<Record>,
    ): WriteRequest {
      return { kind: 'check', key, condition, onConditionFailed: failure(onConditionFailed) };
    },
  };
}

/**
 * The schema of an item kept in a customer's partition that is only ever written by
 * updates (a counter, a registry): its `customerId` is read from its key, as no write
 * stores it.
 */
export const withCustomerIdFromKey = <S extends z.ZodType>(fields: S) =>
  z.preprocess(
    (item) =>
      typeof item === 'object' && item !== null && 'pk' in item
        ? { customerId: String(item.pk).slice(customerPartitionPrefix.length), ...item }
        : item,
    fields,
  );
