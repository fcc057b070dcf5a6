import {
  type CustomerRecord,
  customers,
  mainOfficeOf,
  numberGroupOf,
} from '../../data/customer.js';
import {
  and,
  contains,
  eq,
  exists,
  increment,
  not,
  notExists,
  or,
  type UpdateSpec,
} from '../../data/expressions.js';
import { customerKey, type PbxKind, pbxItemKey, pbxRegistryKey } from '../../data/keys.js';
import { numberRegistries } from '../../data/number-registry.js';
import { type PbxItem, pbxItems, readPbxItem } from '../../data/pbx-item.js';
import { itemId, transact, WriteConflict, type WriteRequest } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError, notFound } from '../../errors.js';
import type { Extension, HuntGroup } from '../../schemas/pbx.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readActiveCustomer, refusalOf } from '../access.js';
import { numberConflict } from './number-conflict.js';

/** An item as a customer sees it: `inheritedFrom` names its main office when the item is that office's. */
export function presentPbxItem(kind: 'extension', item: PbxItem, viewerId: string): Extension;
export function presentPbxItem(kind: 'huntGroup', item: PbxItem, viewerId: string): HuntGroup;
export function presentPbxItem(
  kind: PbxKind,
  item: PbxItem,
  viewerId: string,
): Extension | HuntGroup;
export function presentPbxItem(
  kind: PbxKind,
  item: PbxItem,
  viewerId: string,
): Extension | HuntGroup {
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

/**
 * What every number change carries, in the order their refusals win: the customer
 * still active and in the group it was planned for (else the refusal, or a retry on
 * fresh reads when only its group changed); the number reserved in (or released from)
 * the group's registry, a number the group already uses being 409 number_conflict;
 * and on a branch its own registry, with its count of inherited hunt-group members.
 */
function numberWrites(
  caller: Caller,
  customer: CustomerRecord,
  number: string,
  adding: boolean,
  /** Change in how many hunt-group members of this branch are its main office's extensions. */
  inheritedMembersDelta = 0,
): WriteRequest[] {
  const group = numberGroupOf(customer);
  const numbers = new Set([number]);
  const bumpRevision = { revision: increment(1) };
  const change = (sets: Record<string, ReadonlySet<string>>): UpdateSpec =>
    adding ? { set: bumpRevision, add: sets } : { set: bumpRevision, delete: sets };
  const stillInGroup = customers.check(
    customerKey(customer.id),
    and(eq('status', 'active'), eq('numberGroup', group)),
    (current) => refusalOf(caller, customer.id, current) ?? new WriteConflict(),
  );
  const ownInGroup = group === customer.id;
  const groupRegistry = groupRegistryWrite(
    group,
    change(ownInGroup ? { reserved: numbers, own: numbers } : { reserved: numbers }),
    number,
    adding,
  );
  if (ownInGroup) return [stillInGroup, groupRegistry];
  const counted: Record<string, number> = inheritedMembersDelta
    ? { inheritedMembers: inheritedMembersDelta }
    : {};
  return [
    stillInGroup,
    groupRegistry,
    numberRegistries.update(
      pbxRegistryKey(customer.id),
      adding
        ? { set: bumpRevision, add: { own: numbers, ...counted } }
        : { set: bumpRevision, delete: { own: numbers }, add: counted },
    ),
  ];
}

/**
 * The group's registry: adding reserves the number only if the group does not use it
 * yet (409 number_conflict); releasing it always may.
 */
const groupRegistryWrite = (
  group: string,
  change: UpdateSpec,
  number: string,
  adding: boolean,
): WriteRequest =>
  adding
    ? numberRegistries.update(pbxRegistryKey(group), change, {
        condition: not(contains('reserved', number)),
        onConditionFailed: () => numberConflict([number]),
      })
    : numberRegistries.update(pbxRegistryKey(group), change);

/** Hunt-group members that are not the owner's own extensions: its main office's. */
const inheritedMembersOf = (item: PbxItem): number =>
  (item.members ?? []).filter((member) => member.ownerId !== item.ownerId).length;

/**
 * Counts a hunt group in (+1) or out (-1) of each member extension, at the member's
 * owner. A member deleted meanwhile fails the transaction as a conflict: the retry
 * looks the members up again and names every missing one (422).
 */
const memberUses = (item: PbxItem, delta: 1 | -1): WriteRequest[] =>
  (item.members ?? []).map((member) =>
    pbxItems.extension.update(
      pbxItemKey(member.ownerId, 'extension', member.number),
      { add: { usedBy: delta } },
      { condition: exists('pk') },
    ),
  );

/** One transaction: the customer checked, the number reserved, the item put, its members counted. */
async function putNewItem(
  ctx: ServiceContext,
  caller: Caller,
  customer: CustomerRecord,
  kind: PbxKind,
  item: PbxItem,
): Promise<void> {
  await transact(ctx.db, [
    ...numberWrites(caller, customer, item.number, true, inheritedMembersOf(item)),
    pbxItems[kind].put(item, { condition: notExists('pk') }),
    ...memberUses(item, 1),
  ]);
}

export async function createExtension(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  input: { number: string; name: string; accountNumber?: string },
): Promise<Extension> {
  return retryOnWriteConflict(async () => {
    const customer = await readActiveCustomer(ctx, caller, customerId);
    const item: PbxItem = {
      number: input.number,
      name: input.name,
      ownerId: customerId,
      accountNumber: input.accountNumber ?? null,
    };
    await putNewItem(ctx, caller, customer, 'extension', item);
    return presentPbxItem('extension', item, customerId);
  });
}

const unknownMember = (numbers: readonly string[]) =>
  new AppError(
    'unknown_member',
    `Not an extension this customer can see: ${numbers.join(', ')}.`,
    numbers.map((number) => ({
      path: `body.members.${number}`,
      message: 'is not an extension this customer can see',
    })),
  );

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
    const mainOfficeId = mainOfficeOf(customer);
    const visibleOwners = mainOfficeId ? [customerId, mainOfficeId] : [customerId];
    const found = await pbxItems.extension.getMany(
      ctx.db,
      visibleOwners.flatMap((owner) =>
        input.members.map((number) => pbxItemKey(owner, 'extension', number)),
      ),
    );
    const members = input.members.map((number) => ({
      number,
      ownerId: visibleOwners.find((owner) =>
        found.has(itemId(pbxItemKey(owner, 'extension', number))),
      ),
    }));
    const unknown = members.filter((member) => !member.ownerId).map((member) => member.number);
    if (unknown.length > 0) throw unknownMember(unknown);
    const item: PbxItem = {
      number: input.number,
      name: input.name,
      ownerId: customerId,
      strategy: input.strategy,
      members: members as { number: string; ownerId: string }[],
    };
    await putNewItem(ctx, caller, customer, 'huntGroup', item);
    return presentPbxItem('huntGroup', item, customerId);
  });
}

const extensionInUse = (number: string) =>
  new AppError('extension_in_use', `Extension ${number} is a member of a hunt group.`);

/** Why a customer has no such item of its own: it is its main office's (409), or unknown (404). */
async function absenceOf(
  ctx: ServiceContext,
  customer: CustomerRecord,
  kind: PbxKind,
  number: string,
): Promise<AppError> {
  const mainOfficeId = mainOfficeOf(customer);
  if (mainOfficeId && (await readPbxItem(ctx.db, mainOfficeId, kind, number))) {
    return new AppError('inherited_item', `${number} belongs to the main office ${mainOfficeId}.`);
  }
  return notFound();
}

/**
 * DELETE of an extension or hunt group: the customer's own item only (an inherited
 * one is 409 inherited_item); an extension a hunt group uses is 409 extension_in_use,
 * answered from the read, and by the delete's condition when a hunt group took it
 * meanwhile.
 */
export async function deletePbxItem(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  kind: PbxKind,
  number: string,
): Promise<void> {
  return retryOnWriteConflict(async () => {
    const [customer, item] = await Promise.all([
      readActiveCustomer(ctx, caller, customerId),
      readPbxItem(ctx.db, customerId, kind, number),
    ]);
    if (!item) throw await absenceOf(ctx, customer, kind, number);
    if ((item.usedBy ?? 0) > 0) throw extensionInUse(number);
    await transact(ctx.db, [
      ...numberWrites(caller, customer, number, false, -inheritedMembersOf(item)),
      // Only extensions are hunt-group members; a hunt group has no uses to guard.
      pbxItems[kind].delete(
        pbxItemKey(customerId, kind, number),
        kind === 'extension'
          ? {
              condition: and(exists('pk'), or(notExists('usedBy'), eq('usedBy', 0))),
              // Absent: deleted meanwhile, and the fresh read answers 404.
              onConditionFailed: (current) =>
                current ? extensionInUse(number) : new WriteConflict(),
            }
          : { condition: exists('pk') },
      ),
      ...memberUses(item, -1),
    ]);
  });
}
