import {
  type CustomerRecord,
  customerLists,
  customers,
  etagOfRecord,
  fullCustomerRows,
  indexChangesOnRename,
  inMainOfficeDropdown,
  mainOfficeOf,
  nameStartsWith,
  queryCustomersByName,
  readCustomer,
  readCustomers,
  toCustomer,
} from '../../data/customer.js';
import { notExists } from '../../data/expressions.js';
import type { Page } from '../../data/pagination.js';
import { transact } from '../../data/table.js';
import type { ETag, IfMatch } from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { forbidden } from '../../errors.js';
import type { AdditionalInfo } from '../../schemas/additional-info.js';
import type {
  CreateCustomerInput,
  Customer,
  ListCustomersQuery,
  PatchCustomerInput,
} from '../../schemas/customers.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer } from '../access.js';
import { updateOwnAttributes } from './customer-writes.js';

/** A customer as shown, with the version its ETag is made of. */
export interface VersionedCustomer {
  readonly customer: Customer;
  readonly etag: ETag;
}

export const defaultAdditionalInfo = (): AdditionalInfo => ({
  didAutoProvisioning: { enabled: false, batchId: null },
  officeHierarchy: {
    enabled: false,
    office: null,
    mainOfficeId: null,
    invoicing: 'individual',
    branchCount: 0,
  },
  aliasAuthDefault: 'system',
});

/**
 * A branch shows its main office's invoicing (§4): the value lives on the main
 * office, read with the branch rather than copied to every branch.
 */
export function presentCustomer(
  record: CustomerRecord,
  mainOffice: CustomerRecord | undefined,
): Customer {
  const customer = toCustomer(record);
  if (!mainOffice || mainOfficeOf(record) !== mainOffice.id) return customer;
  const hierarchy = customer.additionalInfo.officeHierarchy;
  return {
    ...customer,
    additionalInfo: {
      ...customer.additionalInfo,
      officeHierarchy: {
        ...hierarchy,
        invoicing: mainOffice.additionalInfo.officeHierarchy.invoicing,
      },
    },
  };
}

/** Presents a page of customers, reading the main offices of its branches in one round trip. */
async function presentCustomers(
  ctx: ServiceContext,
  records: readonly CustomerRecord[],
): Promise<Customer[]> {
  const mainOfficeIds = records.map(mainOfficeOf).filter((id): id is string => id !== null);
  const mainOffices =
    mainOfficeIds.length > 0 ? await readCustomers(ctx.db, mainOfficeIds) : new Map();
  return records.map((record) => {
    const mainOfficeId = mainOfficeOf(record);
    return presentCustomer(record, mainOfficeId ? mainOffices.get(mainOfficeId) : undefined);
  });
}

/**
 * A branch's main office, for the invoicing it shows: the one already read when it is
 * that one, else one more read; none for a customer that is no branch.
 */
export async function mainOfficeFor(
  ctx: ServiceContext,
  record: CustomerRecord,
  alreadyRead?: CustomerRecord,
): Promise<CustomerRecord | undefined> {
  const mainOfficeId = mainOfficeOf(record);
  if (!mainOfficeId) return undefined;
  return alreadyRead?.id === mainOfficeId ? alreadyRead : readCustomer(ctx.db, mainOfficeId);
}

/** A customer as a write left it (or as read), with its main office read when it is a branch. */
export async function presentWritten(
  ctx: ServiceContext,
  record: CustomerRecord,
): Promise<VersionedCustomer> {
  return {
    customer: presentCustomer(record, await mainOfficeFor(ctx, record)),
    etag: etagOfRecord(record),
  };
}

/** The owning reseller of a new customer: a reseller may only create its own. */
function ownerOf(caller: Caller, requested: string | null | undefined): string | null {
  if (caller.role === 'reseller') {
    if (requested != null && requested !== caller.resellerId) {
      throw forbidden('A reseller may only create customers of its own.');
    }
    return caller.resellerId;
  }
  return requested ?? null;
}

export async function createCustomer(
  ctx: ServiceContext,
  caller: Caller,
  input: CreateCustomerInput,
): Promise<VersionedCustomer> {
  const now = ctx.now().toISOString();
  const resellerId = ownerOf(caller, input.resellerId);
  // Ids are fresh ULIDs: the condition turns an (all but impossible) collision into
  // another attempt with a new id, never an overwrite.
  const record = await retryOnWriteConflict(async () => {
    const fresh: CustomerRecord = {
      id: ctx.newId(),
      name: input.name,
      resellerId,
      businessModel: input.businessModel,
      currency: input.currency,
      billingPeriod: 'monthly',
      timezone: input.timezone ?? 'UTC',
      status: 'active',
      createdAt: now,
      updatedAt: now,
      terminatedAt: null,
      terminatedBy: null,
      additionalInfo: defaultAdditionalInfo(),
      version: 1,
      otherCurrencyBranchCount: 0,
      linkedWithOtherCurrency: false,
      didBatch: null,
    };
    await transact(ctx.db, [customers.put(fresh, { condition: notExists('pk') })]);
    return fresh;
  });
  return { customer: toCustomer(record), etag: etagOfRecord(record) };
}

export async function getCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<VersionedCustomer> {
  return presentWritten(ctx, await readVisibleCustomer(ctx, caller, id));
}

/**
 * One conditional UpdateItem: existence, scope, status and If-Match are all
 * conditions of the write; the item as it was tells which failed (404, 409, 412).
 */
export async function patchCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  input: PatchCustomerInput,
  ifMatch: IfMatch,
): Promise<VersionedCustomer> {
  const changes: Record<string, unknown> =
    input.name === undefined ? {} : { name: input.name, ...indexChangesOnRename(input.name, id) };
  if (input.timezone !== undefined) changes.timezone = input.timezone;
  return presentWritten(ctx, await updateOwnAttributes(ctx, caller, id, changes, ifMatch));
}

/** The list a caller sees: its scope, or with office=main that scope's "Main office" dropdown. */
function listOf(caller: Exclude<Caller, { role: 'customer' }>, mainOfficesOnly: boolean) {
  if (caller.role === 'reseller') {
    return mainOfficesOnly
      ? customerLists.mainOfficesOfReseller(caller.resellerId)
      : customerLists.ofReseller(caller.resellerId);
  }
  return mainOfficesOnly ? customerLists.mainOffices() : customerLists.all();
}

/**
 * A page of the customers in the caller's scope by name, or with office=main the
 * "Main office" dropdown: active main offices only.
 */
export async function listCustomers(
  ctx: ServiceContext,
  caller: Caller,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (caller.role === 'customer') return listSelf(ctx, caller, query);
  const page = await queryCustomersByName(
    ctx.db,
    listOf(caller, query.office === 'main'),
    { namePrefix: query.q, limit: query.limit, cursor: query.cursor },
    fullCustomerRows,
  );
  return { items: await presentCustomers(ctx, page.items), nextCursor: page.nextCursor };
}

/** A customer's scope is itself: its list holds at most one entry. */
async function listSelf(
  ctx: ServiceContext,
  caller: Extract<Caller, { role: 'customer' }>,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (query.cursor) return { items: [], nextCursor: null };
  const record = await readCustomer(ctx.db, caller.customerId);
  const matches =
    record &&
    (!query.q || nameStartsWith(record.name, query.q)) &&
    (query.office !== 'main' || inMainOfficeDropdown(record));
  return { items: matches ? await presentCustomers(ctx, [record]) : [], nextCursor: null };
}
