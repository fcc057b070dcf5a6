import { PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, itemId } from '../data/batch-get.js';
import { conditionFailure } from '../data/conditions.js';
import {
  type CustomerRecord,
  customerItem,
  etagOfRecord,
  isCustomerNameKey,
  mainOfficeOf,
  parseCustomerRecord,
} from '../data/customer-records.js';
import { branchesPartition, customerKey, didBatchKey, pbxRegistryKey } from '../data/keys.js';
import { decodeCursor, type Page, pageFrom } from '../data/pagination.js';
import type { ETag, IfMatch } from '../data/versioning.js';
import { backOff, isWriteConflict } from '../data/write-conflicts.js';
import { concurrentUpdate, customerTerminated, notFound } from '../errors.js';
import { type Caller, canSee } from '../http/caller.js';
import type { AdditionalInfo, AdditionalInfoPatch, Branch } from '../schemas/additional-info.js';
import type { ServiceContext } from '../service-context.js';
import {
  guardedCustomerUpdate,
  guardRefusal,
  presentCustomer,
  readCustomerRecord,
  readVisibleCustomer,
} from './customers.js';
import { didBatchToCheck, type PanelChange, planPanelChange } from './office-hierarchy.js';
import {
  numberConflictsOnLink,
  numberMovesOnLink,
  type PbxRegistry,
  parsePbxRegistry,
} from './pbx.js';

export interface VersionedPanel {
  readonly additionalInfo: AdditionalInfo;
  readonly etag: ETag;
}

const panelOf = (
  record: CustomerRecord,
  mainOffice: CustomerRecord | undefined,
): VersionedPanel => ({
  additionalInfo: presentCustomer(record, mainOffice).additionalInfo,
  etag: etagOfRecord(record),
});

/** One read (two for a branch, whose invoicing is its main office's). */
export async function getAdditionalInfo(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<VersionedPanel> {
  const { record, mainOffice } = await readVisibleCustomer(ctx, caller, id);
  return panelOf(record, mainOffice);
}

/** A patch that only changes the customer's own settings needs no read before its write. */
const touchesOnlyOwnSettings = (patch: AdditionalInfoPatch): boolean =>
  patch.officeHierarchy === undefined &&
  (patch.didAutoProvisioning === undefined ||
    (Object.keys(patch.didAutoProvisioning).length === 1 &&
      patch.didAutoProvisioning.enabled === false));

/** Concurrent writers are resolved by reading again; past this many conflicts the caller retries. */
const maxAttempts = 10;

/**
 * PATCH of the panel (SPEC §4). Settings of the customer alone are one guarded
 * UpdateItem. Anything touching the hierarchy reads the customer and the main
 * office it names together (one BatchGetItem), checks the rules on what was read,
 * and writes in one transaction conditioned on exactly that: the customer's
 * version, and the main office still being an active main office. A condition that
 * fails means someone else wrote in between; the whole check runs again on fresh
 * reads, so the answer is always the rule that holds now.
 */
export async function patchAdditionalInfo(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  patch: AdditionalInfoPatch,
  ifMatch: IfMatch,
): Promise<VersionedPanel> {
  if (touchesOnlyOwnSettings(patch)) return patchOwnSettings(ctx, caller, id, patch, ifMatch);
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const { current, change, facts, registries } = await readAndPlan(
      ctx,
      caller,
      id,
      patch,
      ifMatch,
    );
    if (!change) return panelOf(current, await mainOfficeFor(ctx, current, facts.namedMainOffice));
    const next: CustomerRecord = {
      ...current,
      additionalInfo: change.additionalInfo,
      linkedWithOtherCurrency: change.linkedWithOtherCurrency,
      version: current.version + 1,
      updatedAt: ctx.now().toISOString(),
    };
    if (await writePanelChange(ctx, current, next, change, registries)) {
      return panelOf(
        next,
        await mainOfficeFor(ctx, next, change.link.to?.record ?? facts.namedMainOffice),
      );
    }
    // The main office being left is not read up front; a terminated one is why leaving failed.
    const left = change.link.from ? await readCustomerRecord(ctx, change.link.from.id) : undefined;
    if (left?.status === 'terminated') throw customerTerminated(left.id);
    await backOff(attempt);
  }
  throw concurrentUpdate();
}

/** A branch's main office, for the invoicing it shows: the one already read, else one more read. */
async function mainOfficeFor(
  ctx: ServiceContext,
  record: CustomerRecord,
  alreadyRead: CustomerRecord | undefined,
): Promise<CustomerRecord | undefined> {
  const mainOfficeId = mainOfficeOf(record);
  if (!mainOfficeId) return undefined;
  return alreadyRead?.id === mainOfficeId ? alreadyRead : readCustomerRecord(ctx, mainOfficeId);
}

async function patchOwnSettings(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  patch: AdditionalInfoPatch,
  ifMatch: IfMatch,
): Promise<VersionedPanel> {
  const update = guardedCustomerUpdate(ctx, caller, ifMatch);
  if (patch.aliasAuthDefault) update.set('additionalInfo.aliasAuthDefault', patch.aliasAuthDefault);
  if (patch.didAutoProvisioning) update.set('additionalInfo.didAutoProvisioning.enabled', false);
  const record = await update.send(id);
  return panelOf(record, await mainOfficeFor(ctx, record, undefined));
}

/** Reads what the rules need in one round trip and plans the change; undefined change = nothing to write. */
async function readAndPlan(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  patch: AdditionalInfoPatch,
  ifMatch: IfMatch,
) {
  const named = patch.officeHierarchy?.mainOfficeId;
  const batchId = patch.didAutoProvisioning?.batchId;
  const hierarchyTouched = patch.officeHierarchy !== undefined;
  const items = await batchGetItems(ctx.db, [
    customerKey(id),
    ...(named && named !== id ? [customerKey(named)] : []),
    ...(batchId ? [didBatchKey(batchId)] : []),
    // The PBX number registries: a link moves the customer's numbers between groups.
    ...(hierarchyTouched ? [pbxRegistryKey(id)] : []),
    ...(hierarchyTouched && named && named !== id ? [pbxRegistryKey(named)] : []),
  ]);
  const customerAt = (customerId: string | null | undefined) => {
    const item = customerId ? items.get(itemId(customerKey(customerId))) : undefined;
    return item ? parseCustomerRecord(item) : undefined;
  };
  const current = customerAt(id);
  const refusal = guardRefusal(caller, id, current, ifMatch);
  if (refusal || !current) throw refusal ?? notFound();
  // The batch the panel would point to may be the one it already has, not named in the patch.
  const batchToCheck = didBatchToCheck(current, patch);
  const didBatchExists =
    batchToCheck === null ||
    items.has(itemId(didBatchKey(batchToCheck))) ||
    (batchToCheck !== batchId &&
      (await batchGetItems(ctx.db, [didBatchKey(batchToCheck)])).size > 0);
  const registries = {
    own: parsePbxRegistry(items.get(itemId(pbxRegistryKey(id)))),
    target: named ? parsePbxRegistry(items.get(itemId(pbxRegistryKey(named)))) : undefined,
  };
  const facts = {
    namedMainOffice: customerAt(named),
    didBatchExists,
    numberConflicts: registries.target
      ? numberConflictsOnLink(registries.own, registries.target)
      : [],
    inheritedMembers: registries.own.inheritedMembers ?? 0,
  };
  const change = planPanelChange(caller, current, patch, facts);
  const unchanged =
    !change.link.from &&
    !change.link.to &&
    JSON.stringify(change.additionalInfo) === JSON.stringify(current.additionalInfo);
  return { current, change: unchanged ? undefined : change, facts, registries };
}

/**
 * Writes the planned change; false when a condition failed because someone wrote in
 * between. The customer is put whole (its index attributes follow from its state)
 * on condition of the version that was read. A main office that gains a branch must
 * still be an active main office (and, for a branch of another currency, not on
 * consolidated invoicing); its branch counters change with the same transaction.
 */
async function writePanelChange(
  ctx: ServiceContext,
  current: CustomerRecord,
  next: CustomerRecord,
  change: PanelChange,
  registries: { own: PbxRegistry; target?: PbxRegistry },
): Promise<boolean> {
  const putCustomer = {
    TableName: ctx.db.tableName,
    Item: customerItem(next),
    ConditionExpression: '#version = :read',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':read': current.version },
  };
  const { from, to } = change.link;
  const now = next.updatedAt;
  try {
    if (!from && !to) {
      await ctx.db.client.send(new PutCommand(putCustomer));
      return true;
    }
    await ctx.db.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: putCustomer },
          ...(to
            ? [{ Update: branchCounterUpdate(ctx, to.record.id, +1, to.otherCurrency, now) }]
            : []),
          ...(from
            ? [{ Update: branchCounterUpdate(ctx, from.id, -1, from.otherCurrency, now) }]
            : []),
          ...numberMovesOnLink(ctx, current.id, registries, {
            from: from?.id ?? null,
            to: to?.record.id ?? null,
          }),
        ],
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailure(error) || isWriteConflict(error)) return false;
    throw error;
  }
}

/** Counts a branch in or out of a main office, guarded so a branch only joins an active main office. */
function branchCounterUpdate(
  ctx: ServiceContext,
  mainOfficeId: string,
  delta: 1 | -1,
  otherCurrency: boolean,
  now: string,
) {
  const joining = delta > 0;
  return {
    TableName: ctx.db.tableName,
    Key: customerKey(mainOfficeId),
    UpdateExpression:
      'SET #info.#hierarchy.#branchCount = #info.#hierarchy.#branchCount + :delta, ' +
      'otherCurrencyBranchCount = if_not_exists(otherCurrencyBranchCount, :zero) + :otherDelta, ' +
      '#version = #version + :one, updatedAt = :now',
    ConditionExpression: joining
      ? [
          '#status = :active',
          '#info.#hierarchy.#enabled = :true',
          '#info.#hierarchy.#office = :main',
          ...(otherCurrency ? ['#info.#hierarchy.#invoicing = :individual'] : []),
        ].join(' AND ')
      : [
          // A terminated main office keeps its branches: its cascade is terminating them.
          '#status = :active',
          '#info.#hierarchy.#branchCount >= :one',
          ...(otherCurrency ? ['otherCurrencyBranchCount >= :one'] : []),
        ].join(' AND '),
    ExpressionAttributeNames: {
      '#info': 'additionalInfo',
      '#hierarchy': 'officeHierarchy',
      '#branchCount': 'branchCount',
      '#version': 'version',
      '#status': 'status',
      ...(joining
        ? {
            '#enabled': 'enabled',
            '#office': 'office',
            ...(otherCurrency ? { '#invoicing': 'invoicing' } : {}),
          }
        : {}),
    },
    ExpressionAttributeValues: {
      ':delta': delta,
      ':otherDelta': otherCurrency ? delta : 0,
      ':zero': 0,
      ':one': 1,
      ':now': now,
      ':active': 'active',
      ...(joining
        ? {
            ':true': true,
            ':main': 'main',
            ...(otherCurrency ? { ':individual': 'individual' } : {}),
          }
        : {}),
    },
  };
}

/**
 * The branches of a main office, by name, one page per query. The main office is
 * read beside the query, in parallel, only to check the caller's scope.
 */
export async function listBranches(
  ctx: ServiceContext,
  caller: Caller,
  mainOfficeId: string,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<Page<Branch>> {
  const partition = branchesPartition(mainOfficeId);
  const keyAttributes = ['pk', 'sk', 'mainOfficePk', 'nameSk'];
  const startKey = query.cursor
    ? decodeCursor(
        query.cursor,
        keyAttributes,
        { attribute: 'mainOfficePk', value: partition },
        (key) => isCustomerNameKey(key, undefined),
      )
    : undefined;
  const [mainOffice, { Items = [] }] = await Promise.all([
    readCustomerRecord(ctx, mainOfficeId),
    ctx.db.client.send(
      new QueryCommand({
        TableName: ctx.db.tableName,
        IndexName: 'branchesByMainOffice',
        KeyConditionExpression: 'mainOfficePk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        Limit: query.limit + 1,
        ExclusiveStartKey: startKey,
      }),
    ),
  ]);
  if (!mainOffice || !canSee(caller, mainOffice)) throw notFound();
  return pageFrom(Items, query.limit, keyAttributes, (item) => {
    const branch = parseCustomerRecord(item);
    return { id: branch.id, name: branch.name, status: branch.status };
  });
}
