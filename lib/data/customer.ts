import * as z from 'zod';
import { idPattern } from '../schemas/common.js';
import { type Customer, customerSchema } from '../schemas/customers.js';
import type { Db } from './client.js';
import { type DidBatchRecord, didBatchFrom, didBatchTermsSchema } from './did-batch.js';
import { defineEntity } from './entity.js';
import type { UpdateSpec } from './expressions.js';
import {
  allCustomersPartition,
  branchesPartition,
  customerKey,
  customerListShard,
  customerListShardCount,
  customerNameSort,
  customerPartitionPrefix,
  didBatchKey,
  entityTypes,
  mainOfficesPartition,
  pbxRegistryKey,
  resellerMainOfficesPartition,
  resellerPartition,
  searchableName,
  shardOf,
} from './keys.js';
import { type NumberRegistry, registryOf } from './number-registry.js';
import { decodeCursor, type Page, pageFrom } from './pagination.js';
import { batchGetItems, queryItems } from './table.js';
import type { IndexName } from './table-definition.js';
import { type ETag, etagOf } from './versioning.js';

/**
 * A customer as stored: the API fields, its version (the ETag), and two counters the
 * hierarchy's invariants need without reading the other side of a link.
 */
export const customerRecordSchema = customerSchema.extend({
  version: z.number().int().min(1),
  /** On a main office: linked branches whose currency differs (consolidated invoicing needs 0). */
  otherCurrencyBranchCount: z.number().int().min(0).default(0),
  /** On a branch: its currency differs from its main office's, as counted there at link time. */
  linkedWithOtherCurrency: z.boolean().default(false),
  /**
   * The batch the panel points to, copied when it was chosen: batches never change,
   * so the copy cannot go stale, and offers and assignments read it with the customer.
   */
  didBatch: didBatchTermsSchema.nullable().default(null),
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export function toCustomer(record: CustomerRecord): Customer {
  const {
    version: _version,
    otherCurrencyBranchCount: _count,
    linkedWithOtherCurrency: _linked,
    didBatch: _didBatch,
    ...customer
  } = record;
  return customer;
}

export const etagOfRecord = (record: CustomerRecord): ETag => etagOf(record.version);

export const isMainOffice = (record: CustomerRecord): boolean =>
  record.additionalInfo.officeHierarchy.enabled &&
  record.additionalInfo.officeHierarchy.office === 'main';

export const mainOfficeOf = (record: CustomerRecord): string | null =>
  record.additionalInfo.officeHierarchy.enabled &&
  record.additionalInfo.officeHierarchy.office === 'branch'
    ? record.additionalInfo.officeHierarchy.mainOfficeId
    : null;

/**
 * The customer whose registry holds this customer's extension and hunt-group numbers:
 * its main office when it is a branch, else itself. Stored on the item so a PBX write
 * can be conditioned on the group it was planned for.
 */
export const numberGroupOf = (record: CustomerRecord): string => mainOfficeOf(record) ?? record.id;

/** The name-sorted indexes customers are listed from, each by the partition attribute its items carry. */
const nameIndexes = {
  all: { name: 'byName', partitionKey: 'allPk' },
  reseller: { name: 'byReseller', partitionKey: 'resellerPk' },
  mainOffices: { name: 'mainOffices', partitionKey: 'mainOfficeAllPk' },
  resellerMainOffices: { name: 'mainOfficesByReseller', partitionKey: 'mainOfficeResellerPk' },
  branches: { name: 'branchesByMainOffice', partitionKey: 'mainOfficePk' },
} as const satisfies Record<string, { readonly name: IndexName; readonly partitionKey: string }>;

/** The sort key of every name-sorted index. */
const nameSortKey = 'nameSk';

/**
 * A list of customers sorted by name: one partition of a name-sorted index, or, for a
 * platform-wide list (`sharded`), `customerListShardCount` partitions `<partition>#<shard>`,
 * each customer in the one its id hashes to, merged by name on read.
 */
export interface CustomerList {
  readonly index: (typeof nameIndexes)[keyof typeof nameIndexes];
  readonly partition: string;
  readonly sharded?: true;
}

/** The index partition a customer's entry of a list is written to. */
const entryPartition = (list: CustomerList, customerId: string): string =>
  list.sharded
    ? customerListShard(list.partition, shardOf(customerId, customerListShardCount))
    : list.partition;

/** The index partitions a page of a list is read from. */
const listPartitions = (list: CustomerList): string[] =>
  list.sharded
    ? Array.from({ length: customerListShardCount }, (_, shard) =>
        customerListShard(list.partition, shard),
      )
    : [list.partition];

export const customerLists = {
  /** Every customer: the admin's list. */
  all: (): CustomerList => ({
    index: nameIndexes.all,
    partition: allCustomersPartition,
    sharded: true,
  }),
  ofReseller: (resellerId: string): CustomerList => ({
    index: nameIndexes.reseller,
    partition: resellerPartition(resellerId),
  }),
  /** The "Main office" dropdown: active main offices only (the index is sparse). */
  mainOffices: (): CustomerList => ({
    index: nameIndexes.mainOffices,
    partition: mainOfficesPartition,
    sharded: true,
  }),
  mainOfficesOfReseller: (resellerId: string): CustomerList => ({
    index: nameIndexes.resellerMainOffices,
    partition: resellerMainOfficesPartition(resellerId),
  }),
  branchesOf: (mainOfficeId: string): CustomerList => ({
    index: nameIndexes.branches,
    partition: branchesPartition(mainOfficeId),
  }),
};

/** Whether the customer is offered in the "Main office" dropdown: an active main office. */
export const inMainOfficeDropdown = (record: CustomerRecord): boolean =>
  record.status === 'active' && isMainOffice(record);

/** The lists a customer shows in: they follow from its state. */
function listsOf(record: CustomerRecord): CustomerList[] {
  const inDropdown = inMainOfficeDropdown(record);
  const mainOfficeId = mainOfficeOf(record);
  return [
    customerLists.all(),
    ...(record.resellerId ? [customerLists.ofReseller(record.resellerId)] : []),
    ...(inDropdown ? [customerLists.mainOffices()] : []),
    ...(inDropdown && record.resellerId
      ? [customerLists.mainOfficesOfReseller(record.resellerId)]
      : []),
    ...(mainOfficeId ? [customerLists.branchesOf(mainOfficeId)] : []),
  ];
}

/**
 * Every index attribute follows from the customer's state, so a write that puts the
 * whole item can never leave an index entry behind: lists by name, the "Main office"
 * dropdown (active main offices only) and the branches of a main office.
 */
export function customerIndexAttributes(record: CustomerRecord): Record<string, string> {
  return {
    ...Object.fromEntries(
      listsOf(record).map((list) => [list.index.partitionKey, entryPartition(list, record.id)]),
    ),
    [nameSortKey]: customerNameSort(record.name, record.id),
    numberGroup: numberGroupOf(record),
  };
}

/** What an update that renames a customer also sets: its place in every name-sorted list. */
export const indexChangesOnRename = (name: string, id: string): Record<string, string> => ({
  [nameSortKey]: customerNameSort(name, id),
});

/** A terminated customer leaves the "Main office" dropdown, whose indexes hold active main offices only. */
const indexChangesOnTermination = {
  remove: [nameIndexes.mainOffices.partitionKey, nameIndexes.resellerMainOffices.partitionKey],
} as const satisfies UpdateSpec;

/**
 * The update that terminates a customer, by request or by its main office: the
 * status and who terminated it, a new version, and its index entries in the same write.
 */
export const terminationUpdate = (
  terminatedBy: NonNullable<CustomerRecord['terminatedBy']>,
  now: string,
): UpdateSpec => ({
  set: { status: 'terminated', terminatedAt: now, terminatedBy, updatedAt: now },
  add: { version: 1 },
  ...indexChangesOnTermination,
});

/** The customer entity: its item carries every index attribute its state implies. */
export const customers = defineEntity({
  type: entityTypes.customer,
  schema: customerRecordSchema,
  keyOf: (record) => customerKey(record.id),
  derived: customerIndexAttributes,
});

export const parseCustomerRecord = customers.parse;

/** Strongly consistent read of one customer, or undefined. */
export const readCustomer = (db: Db, id: string): Promise<CustomerRecord | undefined> =>
  customers.get(db, customerKey(id));

/** Strongly consistent read of several customers (at most 100) in one round trip, by id. */
export async function readCustomers(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, CustomerRecord>> {
  const found = await customers.getMany(db, ids.map(customerKey));
  return new Map([...found.values()].map((record) => [record.id, record]));
}

/**
 * Whether a decoded cursor is the key of a customer in a name-sorted index, inside
 * the prefix being listed: DynamoDB refuses a start key outside the query's range.
 */
function isCustomerNameKey(key: Record<string, string>, prefix: string | undefined): boolean {
  const id = key.pk?.startsWith(customerPartitionPrefix)
    ? key.pk.slice(customerPartitionPrefix.length)
    : '';
  const sortKey = key[nameSortKey];
  return (
    idPattern.test(id) &&
    key.sk === customerKey(id).sk &&
    (sortKey?.endsWith(`#${id}`) ?? false) &&
    (prefix === undefined || (sortKey?.startsWith(prefix) ?? false))
  );
}

/** Whether a name matches a prefix as the prefix search of a name-sorted list does. */
export const nameStartsWith = (name: string, prefix: string): boolean =>
  searchableName(name).startsWith(searchableName(prefix));

/** What a name-sorted list reads of each customer, and how it parses the item. */
export interface CustomerListRows<T> {
  /** Attributes to read; every attribute when absent. */
  readonly attributes?: readonly string[];
  readonly parse: (item: Record<string, unknown>) => T;
}

export const fullCustomerRows: CustomerListRows<CustomerRecord> = { parse: parseCustomerRecord };

const branchListSchema = customerRecordSchema.pick({ id: true, name: true, status: true });
/** A branch list reads ids, names and statuses only: a smaller answer than whole customers. */
export const branchListRows: CustomerListRows<z.infer<typeof branchListSchema>> = {
  attributes: ['id', 'name', 'status'],
  parse: (item) => branchListSchema.parse(item),
};

/**
 * One page of a list of customers by name, optionally only those whose name starts
 * with a prefix (case- and width-insensitive). The cursor is the index key of the
 * page's last customer; one that is no key of this list and prefix answers 400.
 */
export async function queryCustomersByName<T>(
  db: Db,
  list: CustomerList,
  query: {
    readonly namePrefix?: string | undefined;
    readonly limit: number;
    readonly cursor?: string | undefined;
  },
  rows: CustomerListRows<T>,
): Promise<Page<T>> {
  const { name: index, partitionKey } = list.index;
  // The cursor names the list (its unsharded partition) and the last entry's place in it.
  const keyAttributes = ['pk', 'sk', partitionKey, nameSortKey];
  const prefix = query.namePrefix ? searchableName(query.namePrefix) : undefined;
  const cursorKey = query.cursor
    ? decodeCursor(
        query.cursor,
        keyAttributes,
        { attribute: partitionKey, value: list.partition },
        (key) => isCustomerNameKey(key, prefix),
      )
    : undefined;
  // Each partition is read from the cursor's place on: a start key is a position in the
  // index, which needs no entry of its own in that partition.
  const pages = await Promise.all(
    listPartitions(list).map((partition) =>
      queryItems(db, {
        index,
        key: {
          partition: [partitionKey, partition],
          ...(prefix ? { sort: { attribute: nameSortKey, beginsWith: prefix } } : {}),
        },
        // The page's last key is the cursor: it is read beside the attributes asked for.
        ...(rows.attributes ? { projection: [...keyAttributes, ...rows.attributes] } : {}),
        limit: query.limit + 1,
        startKey: cursorKey && { ...cursorKey, [partitionKey]: partition },
      }),
    ),
  );
  const items = pages
    .flatMap((page) => page.items)
    .sort((a, b) => compareKeyStrings(String(a[nameSortKey]), String(b[nameSortKey])))
    .slice(0, query.limit + 1)
    .map((item) => ({ ...item, [partitionKey]: list.partition }));
  return pageFrom(items, query.limit, keyAttributes, rows.parse);
}

/** DynamoDB's order of string keys: by their UTF-8 bytes (not JavaScript's UTF-16 units). */
const compareKeyStrings = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const branchRowSchema = customerRecordSchema.pick({ id: true, status: true });
/** A branch as the walk over a main office's branches sees it. */
export type BranchRow = z.infer<typeof branchRowSchema>;
/** Where a walk over a main office's branches goes on (opaque; JSON-serialisable). */
export type BranchPageKey = Record<string, unknown>;

/**
 * One page of the branches of a main office, ids and statuses only, from the branch
 * index (eventually consistent: a link committed a moment ago may be missing).
 * `nextPage` is undefined after the last page.
 */
export async function queryBranchIds(
  db: Db,
  mainOfficeId: string,
  page: { readonly limit: number; readonly startKey: BranchPageKey | undefined },
): Promise<{ branches: BranchRow[]; nextPage: BranchPageKey | undefined }> {
  const { index, partition } = customerLists.branchesOf(mainOfficeId);
  const { items, lastKey } = await queryItems(db, {
    index: index.name,
    key: { partition: [index.partitionKey, partition] },
    projection: ['id', 'status'],
    limit: page.limit,
    startKey: page.startKey,
  });
  return { branches: items.map((item) => branchRowSchema.parse(item)), nextPage: lastKey };
}

/** What a change of a customer's panel is checked against, as read together. */
export interface PanelInputs {
  readonly customer: CustomerRecord | undefined;
  readonly mainOffice: CustomerRecord | undefined;
  /** The DID batch asked for; undefined when it does not exist or none was asked for. */
  readonly didBatch: DidBatchRecord | undefined;
  /** A customer's PBX number registry as read; the empty one when it has none or none was read. */
  readonly registryOf: (customerId: string) => NumberRegistry;
}

/**
 * The reads of a panel change in one strongly consistent BatchGetItem: the customer,
 * the main office it names, the DID batch it names, and, with `registries`, both
 * customers' PBX number registries (a link moves numbers between their groups).
 */
export async function readPanelInputs(
  db: Db,
  request: {
    readonly customerId: string;
    readonly mainOfficeId?: string | undefined;
    readonly didBatchId?: string | null | undefined;
    readonly registries: boolean;
  },
): Promise<PanelInputs> {
  const { customerId, mainOfficeId, didBatchId, registries } = request;
  const items = await batchGetItems(db, [
    customerKey(customerId),
    ...(mainOfficeId ? [customerKey(mainOfficeId)] : []),
    ...(didBatchId ? [didBatchKey(didBatchId)] : []),
    ...(registries ? [pbxRegistryKey(customerId)] : []),
    ...(registries && mainOfficeId ? [pbxRegistryKey(mainOfficeId)] : []),
  ]);
  return {
    customer: customers.from(items, customerKey(customerId)),
    mainOffice: mainOfficeId ? customers.from(items, customerKey(mainOfficeId)) : undefined,
    didBatch: didBatchId ? didBatchFrom(items, didBatchId) : undefined,
    registryOf: (id) => registryOf(items, id),
  };
}

/** The whole item of a customer: keys, type, index attributes and the record. */
export const customerItem = customers.toItem;
