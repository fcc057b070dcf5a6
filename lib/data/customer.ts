import * as z from 'zod';
import { idPattern } from '../schemas/common.js';
import { type Customer, customerSchema } from '../schemas/customers.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import {
  allCustomersPartition,
  branchesPartition,
  customerKey,
  customerNameSort,
  entityTypes,
  mainOfficesPartition,
  resellerMainOfficesPartition,
  resellerPartition,
} from './keys.js';
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
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export function toCustomer(record: CustomerRecord): Customer {
  const {
    version: _version,
    otherCurrencyBranchCount: _count,
    linkedWithOtherCurrency: _linked,
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

/**
 * Every index attribute follows from the customer's state, so a write that puts the
 * whole item can never leave an index entry behind: lists by name, the "Main office"
 * dropdown (active main offices only) and the branches of a main office.
 */
export function customerIndexAttributes(record: CustomerRecord): Record<string, string> {
  const attributes: Record<string, string> = {
    allPk: allCustomersPartition,
    nameSk: customerNameSort(record.name, record.id),
  };
  if (record.resellerId) attributes.resellerPk = resellerPartition(record.resellerId);
  if (record.status === 'active' && isMainOffice(record)) {
    attributes.mainOfficeAllPk = mainOfficesPartition;
    if (record.resellerId)
      attributes.mainOfficeResellerPk = resellerMainOfficesPartition(record.resellerId);
  }
  const mainOfficeId = mainOfficeOf(record);
  if (mainOfficeId) attributes.mainOfficePk = branchesPartition(mainOfficeId);
  attributes.numberGroup = numberGroupOf(record);
  return attributes;
}

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
export function isCustomerNameKey(
  key: Record<string, string>,
  prefix: string | undefined,
): boolean {
  const id = key.pk?.startsWith('CUSTOMER#') ? key.pk.slice('CUSTOMER#'.length) : '';
  return (
    idPattern.test(id) &&
    key.sk === customerKey(id).sk &&
    (key.nameSk?.endsWith(`#${id}`) ?? false) &&
    (prefix === undefined || (key.nameSk?.startsWith(prefix) ?? false))
  );
}

/** The whole item of a customer: keys, type, index attributes and the record. */
export const customerItem = customers.toItem;
