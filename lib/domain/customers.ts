import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, itemId } from '../data/batch-get.js';
import { conditionFailure } from '../data/conditions.js';
import {
  type CustomerRecord,
  customerItem,
  etagOfRecord,
  isCustomerNameKey,
  isMainOffice,
  mainOfficeOf,
  parseCustomerRecord,
  toCustomer,
} from '../data/customer-records.js';
import {
  allCustomersPartition,
  customerKey,
  customerNameSort,
  mainOfficesPartition,
  resellerMainOfficesPartition,
  resellerPartition,
  searchableName,
} from '../data/keys.js';
import { decodeCursor, type Page, pageFrom } from '../data/pagination.js';
import { type ETag, type IfMatch, ifMatchCondition, matchesIfMatch } from '../data/versioning.js';
import { retryOnWriteConflict } from '../data/write-conflicts.js';
import {
  type AppError,
  customerTerminated,
  forbidden,
  notFound,
  preconditionFailed,
} from '../errors.js';
import { type Caller, canSee } from '../http/caller.js';
import type { AdditionalInfo } from '../schemas/additional-info.js';
import type {
  CreateCustomerInput,
  Customer,
  ListCustomersQuery,
  PatchCustomerInput,
} from '../schemas/customers.js';
import type { ServiceContext } from '../service-context.js';

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

/** Strongly consistent read of one customer record, or undefined. */
export async function readCustomerRecord(
  ctx: ServiceContext,
  id: string,
): Promise<CustomerRecord | undefined> {
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: customerKey(id), ConsistentRead: true }),
  );
  return Item ? parseCustomerRecord(Item) : undefined;
}

/** Strongly consistent read of several customers in one round trip (at most 100 ids). */
export async function readCustomerRecords(
  ctx: ServiceContext,
  ids: readonly string[],
): Promise<Map<string, CustomerRecord>> {
  const items = await batchGetItems(ctx.db, ids.map(customerKey));
  return new Map(
    ids.flatMap((id) => {
      const item = items.get(itemId(customerKey(id)));
      return item ? [[id, parseCustomerRecord(item)] as const] : [];
    }),
  );
}

/**
 * A branch shows its main office's invoicing (SPEC §4): the value lives on the main
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
    mainOfficeIds.length > 0 ? await readCustomerRecords(ctx, mainOfficeIds) : new Map();
  return records.map((record) => {
    const mainOfficeId = mainOfficeOf(record);
    return presentCustomer(record, mainOfficeId ? mainOffices.get(mainOfficeId) : undefined);
  });
}

/** The customer a change applies to: in the caller's scope (404) and active (409). */
export async function readActiveCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<CustomerRecord> {
  const customer = await readCustomerRecord(ctx, id);
  if (!customer || !canSee(caller, customer)) throw notFound();
  if (customer.status !== 'active') throw customerTerminated(id);
  return customer;
}

/** Reads a customer in the caller's scope (404 otherwise) with its main office when it is a branch. */
export async function readVisibleCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<{ record: CustomerRecord; mainOffice: CustomerRecord | undefined }> {
  const record = await readCustomerRecord(ctx, id);
  if (!record || !canSee(caller, record)) throw notFound();
  const mainOfficeId = mainOfficeOf(record);
  return {
    record,
    mainOffice: mainOfficeId ? await readCustomerRecord(ctx, mainOfficeId) : undefined,
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
  const record: CustomerRecord = {
    id: ctx.newId(),
    name: input.name,
    resellerId: ownerOf(caller, input.resellerId),
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
  };
  await ctx.db.client.send(
    new PutCommand({
      TableName: ctx.db.tableName,
      Item: customerItem(record),
      // Ids are fresh ULIDs; the condition turns an impossible collision into an error, not an overwrite.
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { customer: toCustomer(record), etag: etagOfRecord(record) };
}

export async function getCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<VersionedCustomer> {
  const { record, mainOffice } = await readVisibleCustomer(ctx, caller, id);
  return { customer: presentCustomer(record, mainOffice), etag: etagOfRecord(record) };
}

/**
 * One conditional UpdateItem: existence, scope, status and If-Match are all
 * conditions of the write. When it fails, the old item (returned by DynamoDB with
 * the failure) tells which one, in SPEC order: 404, then 409, then 412.
 */
export async function patchCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  input: PatchCustomerInput,
  ifMatch: IfMatch,
): Promise<VersionedCustomer> {
  const update = guardedCustomerUpdate(ctx, caller, ifMatch);
  if (input.name !== undefined) {
    update.set('name', input.name);
    update.set('nameSk', customerNameSort(input.name, id));
  }
  if (input.timezone !== undefined) update.set('timezone', input.timezone);
  return presentWritten(ctx, await update.send(id));
}

/** A customer as a write left it, with its main office read when it is a branch. */
export async function presentWritten(
  ctx: ServiceContext,
  record: CustomerRecord,
): Promise<VersionedCustomer> {
  const mainOfficeId = mainOfficeOf(record);
  const mainOffice = mainOfficeId ? await readCustomerRecord(ctx, mainOfficeId) : undefined;
  return { customer: presentCustomer(record, mainOffice), etag: etagOfRecord(record) };
}

/**
 * The conditions every write to a customer by a caller carries: it exists, is
 * active, is in the reseller's scope, and matches If-Match. Adds their values.
 */
export function customerWriteGuards(
  caller: Caller,
  ifMatch: IfMatch,
  values: Record<string, unknown>,
): string[] {
  values[':active'] = 'active';
  const guards = ['attribute_exists(pk)', '#status = :active'];
  if (caller.role === 'reseller') {
    values[':resellerId'] = caller.resellerId;
    guards.push('resellerId = :resellerId');
  }
  const versionGuard = ifMatchCondition(ifMatch, values);
  if (versionGuard) guards.push(versionGuard);
  return guards;
}

/**
 * An UpdateItem on a customer that changes only its own attributes, guarded by
 * existence, the caller's scope, status and If-Match, bumping the version. One round
 * trip. It writes only when some value really changes: a request that changes
 * nothing leaves the version (and so every client's ETag) alone. On a failed
 * condition the old item DynamoDB returns says which guard failed, or that nothing
 * needed to change.
 */
export function guardedCustomerUpdate(ctx: ServiceContext, caller: Caller, ifMatch: IfMatch) {
  const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
  const values: Record<string, unknown> = { ':one': 1, ':now': ctx.now().toISOString() };
  const guards = customerWriteGuards(caller, ifMatch, values);
  const sets = ['updatedAt = :now', '#version = #version + :one'];
  const changes: string[] = [];
  return {
    /** Sets an attribute, or a nested one given as a dotted path; every name is a placeholder. */
    set(path: string, value: unknown) {
      const attribute = path
        .split('.')
        .map((segment) => {
          names[`#${segment}`] = segment;
          return `#${segment}`;
        })
        .join('.');
      const placeholder = `:set${changes.length}`;
      values[placeholder] = value;
      sets.push(`${attribute} = ${placeholder}`);
      changes.push(`${attribute} <> ${placeholder}`);
    },
    async send(id: string): Promise<CustomerRecord> {
      return retryOnWriteConflict(async () => {
        try {
          const { Attributes } = await ctx.db.client.send(
            new UpdateCommand({
              TableName: ctx.db.tableName,
              Key: customerKey(id),
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: [...guards, `(${changes.join(' OR ')})`].join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
          return parseCustomerRecord(Attributes ?? {});
        } catch (error) {
          const failure = conditionFailure(error);
          if (!failure) throw error;
          const old = failure.item ? parseCustomerRecord(failure.item) : undefined;
          const refusal = guardRefusal(caller, id, old, ifMatch);
          if (refusal) throw refusal;
          // Every guard held, so the change condition failed: the values are already these.
          return old as CustomerRecord;
        }
      });
    },
  };
}

/** The first guard a customer write breaks, in SPEC order (404, 409, 412), or undefined. */
export function guardRefusal(
  caller: Caller,
  id: string,
  current: CustomerRecord | undefined,
  ifMatch: IfMatch,
): AppError | undefined {
  if (!current || !canSee(caller, current)) return notFound();
  if (current.status !== 'active') return customerTerminated(id);
  if (!matchesIfMatch(ifMatch, etagOfRecord(current))) return preconditionFailed();
  return undefined;
}

/** Which index a list reads: the caller's scope, and the dropdown's sparse index for office=main. */
function listIndex(caller: Exclude<Caller, { role: 'customer' }>, mainOfficesOnly: boolean) {
  if (caller.role === 'reseller') {
    return mainOfficesOnly
      ? {
          name: 'mainOfficesByReseller',
          pk: 'mainOfficeResellerPk',
          value: resellerMainOfficesPartition(caller.resellerId),
        }
      : { name: 'byReseller', pk: 'resellerPk', value: resellerPartition(caller.resellerId) };
  }
  return mainOfficesOnly
    ? { name: 'mainOffices', pk: 'mainOfficeAllPk', value: mainOfficesPartition }
    : { name: 'byName', pk: 'allPk', value: allCustomersPartition };
}

/**
 * A page of the customers in the caller's scope by name, or with office=main the
 * "Main office" dropdown: active main offices only, from a sparse index.
 */
export async function listCustomers(
  ctx: ServiceContext,
  caller: Caller,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (caller.role === 'customer') return listSelf(ctx, caller, query);
  const index = listIndex(caller, query.office === 'main');
  const page = await queryByName(ctx, index, query);
  return { items: await presentCustomers(ctx, page.items), nextCursor: page.nextCursor };
}

/** One page of an index whose sort key is `nameSk`, optionally by name prefix. */
export async function queryByName(
  ctx: ServiceContext,
  index: { readonly name: string; readonly pk: string; readonly value: string },
  query: { readonly q?: string; readonly limit: number; readonly cursor?: string },
): Promise<Page<CustomerRecord>> {
  const keyAttributes = ['pk', 'sk', index.pk, 'nameSk'];
  const startKey = query.cursor
    ? decodeCursor(
        query.cursor,
        keyAttributes,
        { attribute: index.pk, value: index.value },
        (key) =>
          isCustomerNameKey(key, query.q === undefined ? undefined : searchableName(query.q)),
      )
    : undefined;
  const { Items = [] } = await ctx.db.client.send(
    new QueryCommand({
      TableName: ctx.db.tableName,
      IndexName: index.name,
      KeyConditionExpression: query.q ? '#pk = :pk AND begins_with(nameSk, :prefix)' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.pk },
      ExpressionAttributeValues: {
        ':pk': index.value,
        ...(query.q ? { ':prefix': searchableName(query.q) } : {}),
      },
      Limit: query.limit + 1,
      ExclusiveStartKey: startKey,
    }),
  );
  return pageFrom(Items, query.limit, keyAttributes, parseCustomerRecord);
}

/** A customer's scope is itself: its list holds at most one entry. */
async function listSelf(
  ctx: ServiceContext,
  caller: Extract<Caller, { role: 'customer' }>,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (query.cursor) return { items: [], nextCursor: null };
  const record = await readCustomerRecord(ctx, caller.customerId);
  const matches =
    record &&
    (!query.q || searchableName(record.name).startsWith(searchableName(query.q))) &&
    (query.office !== 'main' || (record.status === 'active' && isMainOffice(record)));
  return { items: matches ? await presentCustomers(ctx, [record]) : [], nextCursor: null };
}
