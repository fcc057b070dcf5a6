import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { conditionFailure } from '../data/conditions.js';
import {
  allCustomersPartition,
  customerKey,
  customerNameSort,
  entityTypes,
  resellerPartition,
  searchableName,
} from '../data/keys.js';
import { decodeCursor, type Page, pageFrom } from '../data/pagination.js';
import { type ETag, etagOf, type IfMatch, matchesIfMatch } from '../data/versioning.js';
import { customerTerminated, forbidden, notFound, preconditionFailed } from '../errors.js';
import { type Caller, canSee } from '../http/caller.js';
import {
  type AdditionalInfo,
  type CreateCustomerInput,
  type Customer,
  customerSchema,
  type ListCustomersQuery,
  type PatchCustomerInput,
} from '../schemas/customers.js';
import type { ServiceContext } from '../service-context.js';

/** A customer as read, with the version its ETag is made of. */
export interface VersionedCustomer {
  readonly customer: Customer;
  readonly etag: ETag;
}

const customerItemSchema = customerSchema.extend({ version: z.number().int().min(1) });

const fromItem = (item: Record<string, unknown>): VersionedCustomer => {
  const { version, ...customer } = customerItemSchema.parse(item);
  return { customer, etag: etagOf(version) };
};

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

/** Index attributes derived from the customer; kept beside it so lists are one query. */
const indexAttributes = (customer: Pick<Customer, 'id' | 'name' | 'resellerId'>) => ({
  allPk: allCustomersPartition,
  nameSk: customerNameSort(customer.name, customer.id),
  ...(customer.resellerId ? { resellerPk: resellerPartition(customer.resellerId) } : {}),
});

export async function createCustomer(
  ctx: ServiceContext,
  caller: Caller,
  input: CreateCustomerInput,
): Promise<VersionedCustomer> {
  const now = ctx.now().toISOString();
  const customer: Customer = {
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
  };
  const version = 1;
  await ctx.db.client.send(
    new PutCommand({
      TableName: ctx.db.tableName,
      Item: {
        ...customerKey(customer.id),
        entityType: entityTypes.customer,
        ...indexAttributes(customer),
        ...customer,
        version,
      },
      // Ids are fresh ULIDs; the condition turns an impossible collision into an error, not an overwrite.
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { customer, etag: etagOf(version) };
}

export async function getCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<VersionedCustomer> {
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: customerKey(id) }),
  );
  const found = Item ? fromItem(Item) : undefined;
  if (!found || !canSee(caller, found.customer)) throw notFound();
  return found;
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
  const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
  const values: Record<string, unknown> = {
    ':active': 'active',
    ':one': 1,
    ':now': ctx.now().toISOString(),
  };
  const sets = ['updatedAt = :now', '#version = #version + :one'];
  if (input.name !== undefined) {
    names['#name'] = 'name';
    values[':name'] = input.name;
    values[':nameSk'] = customerNameSort(input.name, id);
    sets.push('#name = :name', 'nameSk = :nameSk');
  }
  if (input.timezone !== undefined) {
    // TIMEZONE is a DynamoDB reserved word, like NAME and STATUS.
    names['#timezone'] = 'timezone';
    values[':timezone'] = input.timezone;
    sets.push('#timezone = :timezone');
  }
  const conditions = ['attribute_exists(pk)', '#status = :active'];
  if (caller.role === 'reseller') {
    values[':resellerId'] = caller.resellerId;
    conditions.push('resellerId = :resellerId');
  }
  if (ifMatch.kind === 'versions') {
    const placeholders = ifMatch.versions.map((version, index) => {
      values[`:v${index}`] = version;
      return `:v${index}`;
    });
    conditions.push(`#version IN (${placeholders.join(', ')})`);
  }
  try {
    const { Attributes } = await ctx.db.client.send(
      new UpdateCommand({
        TableName: ctx.db.tableName,
        Key: customerKey(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return fromItem(Attributes ?? {});
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) throw error;
    throw explainCustomerWriteFailure(caller, id, failure.item, ifMatch);
  }
}

/** Maps a failed conditional write on a customer to the first violated rule. */
export function explainCustomerWriteFailure(
  caller: Caller,
  id: string,
  oldItem: Record<string, unknown> | undefined,
  ifMatch: IfMatch,
): Error {
  const current = oldItem ? fromItem(oldItem) : undefined;
  if (!current || !canSee(caller, current.customer)) return notFound();
  if (current.customer.status !== 'active') return customerTerminated(id);
  if (!matchesIfMatch(ifMatch, current.etag)) return preconditionFailed();
  return new Error(`Conditional write on customer ${id} failed for no known reason`);
}

export async function listCustomers(
  ctx: ServiceContext,
  caller: Caller,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (caller.role === 'customer') return listSelf(ctx, caller, query);
  const index =
    caller.role === 'reseller'
      ? { name: 'byReseller', pk: 'resellerPk', value: resellerPartition(caller.resellerId) }
      : { name: 'byName', pk: 'allPk', value: allCustomersPartition };
  const keyAttributes = ['pk', 'sk', index.pk, 'nameSk'];
  const startKey = query.cursor
    ? decodeCursor(query.cursor, keyAttributes, { attribute: index.pk, value: index.value })
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
  return pageFrom(Items, query.limit, keyAttributes, (item) => fromItem(item).customer);
}

/** A customer's scope is itself: its list holds at most one entry. */
async function listSelf(
  ctx: ServiceContext,
  caller: Extract<Caller, { role: 'customer' }>,
  query: ListCustomersQuery,
): Promise<Page<Customer>> {
  if (query.cursor) return { items: [], nextCursor: null };
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: customerKey(caller.customerId) }),
  );
  const customer = Item ? fromItem(Item).customer : undefined;
  const matches =
    customer && (!query.q || searchableName(customer.name).startsWith(searchableName(query.q)));
  return { items: matches ? [customer] : [], nextCursor: null };
}
