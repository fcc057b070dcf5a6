import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { batchGetItems, itemId } from '../data/batch-get.js';
import { type CustomerRecord, mainOfficeOf, numberGroupOf } from '../data/customer-records.js';
import {
  customerKey,
  entityTypes,
  type PbxKind,
  pbxItemKey,
  pbxRegistryKey,
  pbxSortPrefix,
} from '../data/keys.js';
import type { Page } from '../data/pagination.js';
import { retryOnWriteConflict } from '../data/write-conflicts.js';
import { AppError, notFound, validationFailed } from '../errors.js';
import { type Caller, canSee } from '../http/caller.js';
import type { Extension, HuntGroup } from '../schemas/pbx.js';
import type { ServiceContext } from '../service-context.js';
import { readActiveCustomer, readCustomerRecord } from './customers.js';

export const numberConflict = (numbers: readonly string[]) =>
  new AppError(
    409,
    'number_conflict',
    'Number conflict',
    `Already used in the group of offices: ${numbers.join(', ')}.`,
    numbers.map((number) => ({
      path: `numbers.${number}`,
      message: `${number} is already used in the group`,
    })),
  );

const storedItemSchema = z.object({
  number: z.string(),
  name: z.string(),
  ownerId: z.string(),
  accountNumber: z.string().nullable().optional(),
  strategy: z.enum(['simultaneous', 'sequential', 'round_robin', 'least_used']).optional(),
  members: z.array(z.object({ number: z.string(), ownerId: z.string() })).optional(),
  usedBy: z.number().optional(),
});
type StoredItem = z.infer<typeof storedItemSchema>;

const registrySchema = z.object({
  own: z.set(z.string()).optional(),
  reserved: z.set(z.string()).optional(),
  revision: z.number().optional(),
  /** On a branch: hunt-group members that are its main office's extensions (they block leaving it). */
  inheritedMembers: z.number().optional(),
});
export type PbxRegistry = z.infer<typeof registrySchema>;
export const parsePbxRegistry = (item: Record<string, unknown> | undefined): PbxRegistry =>
  item ? registrySchema.parse(item) : {};

function present(kind: 'extension', item: StoredItem, viewerId: string): Extension;
function present(kind: 'huntGroup', item: StoredItem, viewerId: string): HuntGroup;
function present(kind: PbxKind, item: StoredItem, viewerId: string): Extension | HuntGroup {
  const inheritedFrom = item.ownerId === viewerId ? null : item.ownerId;
  if (kind === 'extension') {
    return {
      number: item.number,
      name: item.name,
      accountNumber: item.accountNumber ?? null,
      inheritedFrom,
    };
  }
  return {
    number: item.number,
    name: item.name,
    strategy: item.strategy ?? 'simultaneous',
    members: (item.members ?? []).map((member) => member.number),
    inheritedFrom,
  };
}

/** The registry updates and the customer check every number change carries. */
function numberWrites(
  ctx: ServiceContext,
  customer: CustomerRecord,
  number: string,
  adding: boolean,
  /** Change in how many hunt-group members of this branch are its main office's extensions. */
  inheritedMembersDelta = 0,
) {
  const group = numberGroupOf(customer);
  const numbers = new Set([number]);
  const action = adding ? 'ADD' : 'DELETE';
  const bump = 'SET revision = if_not_exists(revision, :zero) + :one';
  const ownInGroupItem = group === customer.id;
  return [
    {
      Update: {
        TableName: ctx.db.tableName,
        Key: pbxRegistryKey(group),
        UpdateExpression: `${bump} ${action} reserved :numbers${ownInGroupItem ? ', #own :numbers' : ''}`,
        ...(adding ? { ConditionExpression: 'NOT contains(reserved, :number)' } : {}),
        ExpressionAttributeNames: ownInGroupItem ? { '#own': 'own' } : undefined,
        ExpressionAttributeValues: {
          ':numbers': numbers,
          ':zero': 0,
          ':one': 1,
          ...(adding ? { ':number': number } : {}),
        },
      },
    },
    ...(ownInGroupItem
      ? []
      : [
          {
            Update: {
              TableName: ctx.db.tableName,
              Key: pbxRegistryKey(customer.id),
              UpdateExpression: `${bump} ${action} #own :numbers${
                inheritedMembersDelta
                  ? `${action === 'ADD' ? ',' : ' ADD'} inheritedMembers :inherited`
                  : ''
              }`,
              ExpressionAttributeNames: { '#own': 'own' },
              ExpressionAttributeValues: {
                ':numbers': numbers,
                ':zero': 0,
                ':one': 1,
                ...(inheritedMembersDelta ? { ':inherited': inheritedMembersDelta } : {}),
              },
            },
          },
        ]),
    {
      ConditionCheck: {
        TableName: ctx.db.tableName,
        Key: customerKey(customer.id),
        ConditionExpression: '#status = :active AND numberGroup = :group',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active', ':group': group },
      },
    },
  ];
}

/** The reason a cancelled number transaction gives for its first item, the registry's reservation. */
const reservationRefused = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  error.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed';

/** Hunt-group members that are not the owner's own extensions: its main office's. */
const inheritedMembersOf = (item: StoredItem): number =>
  (item.members ?? []).filter((member) => member.ownerId !== item.ownerId).length;

/** Counts a hunt group in (+1) or out (-1) of each member extension, at the member's owner. */
const memberUseUpdates = (ctx: ServiceContext, item: StoredItem, delta: 1 | -1) =>
  (item.members ?? []).map((member) => ({
    Update: {
      TableName: ctx.db.tableName,
      Key: pbxItemKey(member.ownerId, 'extension', member.number),
      UpdateExpression: delta > 0 ? 'ADD usedBy :one' : 'ADD usedBy :minusOne',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: delta > 0 ? { ':one': 1 } : { ':minusOne': -1 },
    },
  }));

/**
 * One transaction: the new item, its number reserved in the group, and for a hunt
 * group its members counted. A number the group already uses is 409 number_conflict.
 */
async function putNewItem(
  ctx: ServiceContext,
  customer: CustomerRecord,
  kind: PbxKind,
  item: StoredItem,
): Promise<void> {
  try {
    await ctx.db.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.db.tableName,
              Item: {
                ...pbxItemKey(item.ownerId, kind, item.number),
                entityType: entityTypes[kind],
                ...item,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...numberWrites(ctx, customer, item.number, true, inheritedMembersOf(item)),
          ...memberUseUpdates(ctx, item, 1),
        ],
      }),
    );
  } catch (error) {
    throw reservationRefused(error) ? numberConflict([item.number]) : error;
  }
}

export async function createExtension(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  input: { number: string; name: string; accountNumber?: string },
): Promise<Extension> {
  return retryOnWriteConflict(async () => {
    const customer = await readActiveCustomer(ctx, caller, customerId);
    const item: StoredItem = {
      number: input.number,
      name: input.name,
      ownerId: customerId,
      accountNumber: input.accountNumber ?? null,
    };
    await putNewItem(ctx, customer, 'extension', item);
    return present('extension', item, customerId);
  });
}

/**
 * A hunt group: its members must be extensions the customer can see, its own or its
 * main office's. Each member extension counts the hunt groups using it (`usedBy`), in
 * the same transaction, so it cannot be deleted while in use.
 */
export async function createHuntGroup(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  input: { number: string; name: string; strategy: HuntGroup['strategy']; members: string[] },
): Promise<HuntGroup> {
  return retryOnWriteConflict(async () => {
    const customer = await readActiveCustomer(ctx, caller, customerId);
    const visibleOwners = [
      customerId,
      ...(mainOfficeOf(customer) ? [mainOfficeOf(customer) as string] : []),
    ];
    const found = await batchGetItems(
      ctx.db,
      visibleOwners.flatMap((owner) =>
        input.members.map((member) => pbxItemKey(owner, 'extension', member)),
      ),
    );
    const members = input.members.map((number) => {
      const owner = visibleOwners.find((candidate) =>
        found.has(itemId(pbxItemKey(candidate, 'extension', number))),
      );
      return { number, ownerId: owner };
    });
    const unknown = members.filter((member) => !member.ownerId).map((member) => member.number);
    if (unknown.length > 0) {
      throw new AppError(
        422,
        'unknown_member',
        'Unknown member',
        `Not an extension this customer can see: ${unknown.join(', ')}.`,
        unknown.map((number) => ({
          path: `body.members.${number}`,
          message: 'is not an extension this customer can see',
        })),
      );
    }
    const item: StoredItem = {
      number: input.number,
      name: input.name,
      ownerId: customerId,
      strategy: input.strategy,
      members: members as { number: string; ownerId: string }[],
    };
    await putNewItem(ctx, customer, 'huntGroup', item);
    return present('huntGroup', item, customerId);
  });
}

/**
 * DELETE of an extension or hunt group: the customer's own item only (an inherited
 * one is 409 inherited_item); an extension a hunt group uses is 409 extension_in_use.
 */
export async function deletePbxItem(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  kind: PbxKind,
  number: string,
): Promise<void> {
  return retryOnWriteConflict(async () => {
    const [customer, { Item }] = await Promise.all([
      readActiveCustomer(ctx, caller, customerId),
      ctx.db.client.send(
        new GetCommand({
          TableName: ctx.db.tableName,
          Key: pbxItemKey(customerId, kind, number),
          ConsistentRead: true,
        }),
      ),
    ]);
    if (!Item) {
      const mainOfficeId = mainOfficeOf(customer);
      if (mainOfficeId) {
        const { Item: inherited } = await ctx.db.client.send(
          new GetCommand({
            TableName: ctx.db.tableName,
            Key: pbxItemKey(mainOfficeId, kind, number),
            ConsistentRead: true,
          }),
        );
        if (inherited) {
          throw new AppError(
            409,
            'inherited_item',
            'Inherited item',
            `${number} belongs to the main office ${mainOfficeId}.`,
          );
        }
      }
      throw notFound();
    }
    const item = storedItemSchema.parse(Item);
    if ((item.usedBy ?? 0) > 0) throw extensionInUse(number);
    await ctx.db.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: ctx.db.tableName,
              Key: pbxItemKey(customerId, kind, number),
              ConditionExpression:
                'attribute_exists(pk) AND (attribute_not_exists(usedBy) OR usedBy = :zero)',
              ExpressionAttributeValues: { ':zero': 0 },
            },
          },
          ...numberWrites(ctx, customer, number, false, -inheritedMembersOf(item)),
          ...memberUseUpdates(ctx, item, -1),
        ],
      }),
    );
  });
}

const extensionInUse = (number: string) =>
  new AppError(
    409,
    'extension_in_use',
    'Extension in use',
    `Extension ${number} is a member of a hunt group.`,
  );

/**
 * A customer's extensions or hunt groups with, for a branch, its main office's: two
 * sorted lists read side by side and merged, no copy per branch. The cursor is the
 * sort key of the last item shown.
 */
export async function listPbxItems(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  kind: PbxKind,
  query: { limit: number; cursor?: string },
): Promise<Page<Extension | HuntGroup>> {
  const after = query.cursor === undefined ? undefined : decodePbxCursor(query.cursor, kind);
  const pageOf = (ownerId: string) =>
    ctx.db.client.send(
      new QueryCommand({
        TableName: ctx.db.tableName,
        KeyConditionExpression: after
          ? 'pk = :pk AND sk BETWEEN :after AND :end'
          : 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: after
          ? {
              ':pk': customerKey(ownerId).pk,
              ':after': `${after}\u0000`,
              ':end': `${pbxSortPrefix(kind)}\uffff`,
            }
          : { ':pk': customerKey(ownerId).pk, ':prefix': pbxSortPrefix(kind) },
        Limit: query.limit + 1,
        ConsistentRead: true,
      }),
    );
  const [customer, own] = await Promise.all([
    readCustomerRecord(ctx, customerId),
    pageOf(customerId),
  ]);
  if (!customer || !canSee(caller, customer)) throw notFound();
  const mainOfficeId = mainOfficeOf(customer);
  const inherited = mainOfficeId ? await pageOf(mainOfficeId) : { Items: [] };
  const merged = [...(own.Items ?? []), ...(inherited.Items ?? [])].sort((a, b) =>
    String(a.sk) < String(b.sk) ? -1 : 1,
  );
  const page = merged.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((item) =>
      present(kind as 'extension', storedItemSchema.parse(item), customerId),
    ),
    nextCursor:
      merged.length > query.limit && last
        ? Buffer.from(String(last.sk)).toString('base64url')
        : null,
  };
}

function decodePbxCursor(cursor: string, kind: PbxKind): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  const pattern = new RegExp(`^${pbxSortPrefix(kind)}\\d#\\d{1,8}$`);
  if (!pattern.test(sk))
    throw validationFailed([{ path: 'cursor', message: 'is not a cursor of this list' }]);
  return sk;
}

/** Numbers of the customer that the main office's group already uses, in numeric order. */
export function numberConflictsOnLink(own: PbxRegistry, target: PbxRegistry): string[] {
  const reserved = target.reserved ?? new Set<string>();
  return [...(own.own ?? [])]
    .filter((number) => reserved.has(number))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
}

/**
 * The registry writes of a link change, for the panel's transaction: the customer's
 * own numbers leave the group it leaves and join the group it joins, conditioned on
 * the registries it read (their revision), so a number created meanwhile on either
 * side fails the link instead of slipping past the check. A customer that leaves a
 * group becomes the root of its own again.
 */
export function numberMovesOnLink(
  ctx: ServiceContext,
  customerId: string,
  registries: { own: PbxRegistry; target?: PbxRegistry },
  link: { from: string | null; to: string | null },
) {
  const own = registries.own.own ?? new Set<string>();
  const hasNumbers = own.size > 0;
  const bump = 'SET revision = if_not_exists(revision, :zero) + :one';
  const revisionGuard = (registry: PbxRegistry | undefined) =>
    registry?.revision === undefined
      ? { ConditionExpression: 'attribute_not_exists(revision)', values: {} }
      : { ConditionExpression: 'revision = :read', values: { ':read': registry.revision } };
  const ownGuard = revisionGuard(registries.own);
  const writes: Record<string, unknown>[] = [
    {
      Update: {
        TableName: ctx.db.tableName,
        Key: pbxRegistryKey(customerId),
        // A branch is no group's root; a customer that leaves its group roots its own.
        UpdateExpression:
          link.to !== null
            ? `${bump} REMOVE reserved`
            : hasNumbers
              ? `${bump}, reserved = :own`
              : `${bump} REMOVE reserved`,
        ConditionExpression: ownGuard.ConditionExpression,
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ...ownGuard.values,
          ...(link.to === null && hasNumbers ? { ':own': own } : {}),
        },
      },
    },
  ];
  if (link.to !== null && hasNumbers) {
    const targetGuard = revisionGuard(registries.target);
    writes.push({
      Update: {
        TableName: ctx.db.tableName,
        Key: pbxRegistryKey(link.to),
        UpdateExpression: `${bump} ADD reserved :own`,
        ConditionExpression: targetGuard.ConditionExpression,
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own, ...targetGuard.values },
      },
    });
  }
  if (link.from !== null && hasNumbers) {
    writes.push({
      Update: {
        TableName: ctx.db.tableName,
        Key: pbxRegistryKey(link.from),
        UpdateExpression: `${bump} DELETE reserved :own`,
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':own': own },
      },
    });
  }
  return writes;
}
