import {
  type CustomerRecord,
  customers,
  etagOfRecord,
  readPanelInputs,
} from '../../data/customer.js';
import { readDidBatch, termsOf } from '../../data/did-batch.js';
import { and, eq, gte, increment } from '../../data/expressions.js';
import { customerKey } from '../../data/keys.js';
import type { NumberRegistry } from '../../data/number-registry.js';
import { transact, WriteConflict, type WriteRequest } from '../../data/table.js';
import type { ETag, IfMatch } from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { customerTerminated, notFound } from '../../errors.js';
import type { AdditionalInfo, AdditionalInfoPatch } from '../../schemas/additional-info.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer } from '../access.js';
import { guardRefusal, updateOwnAttributes } from '../customers/customer-writes.js';
import { mainOfficeFor, presentCustomer } from '../customers/customers.js';
import { numberConflictsOnLink, numberMovesOnLink } from './number-moves.js';
import {
  didBatchToCheck,
  type LinkChange,
  mainOfficeRefusal,
  type PanelChange,
  planPanelChange,
} from './rules.js';

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
  const record = await readVisibleCustomer(ctx, caller, id);
  return panelOf(record, await mainOfficeFor(ctx, record));
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
 * PATCH of the panel (§4). Settings of the customer alone are one guarded
 * UpdateItem. Anything touching the hierarchy reads the customer and the main
 * office it names together (one BatchGetItem), checks the rules on what was read,
 * and writes in one transaction conditioned on exactly that: the customer's
 * version, and the main office still being an active main office. A condition that
 * fails means someone else wrote in between: a main office that changed answers the
 * rule it now breaks, anything else runs the whole check again on fresh reads, so
 * the answer is always the rule that holds now.
 */
export async function patchAdditionalInfo(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  patch: AdditionalInfoPatch,
  ifMatch: IfMatch,
): Promise<VersionedPanel> {
  if (touchesOnlyOwnSettings(patch)) return patchOwnSettings(ctx, caller, id, patch, ifMatch);
  return retryOnWriteConflict(async () => {
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
      // The rules checked the batch the panel now points to, so `facts.didBatch` is it.
      didBatch: facts.didBatch ? termsOf(facts.didBatch) : current.didBatch,
      version: current.version + 1,
      updatedAt: ctx.now().toISOString(),
    };
    await transact(ctx.db, panelWrites(caller, current, next, change, registries));
    return panelOf(
      next,
      await mainOfficeFor(ctx, next, change.link.to?.record ?? facts.namedMainOffice),
    );
  }, maxAttempts);
}

async function patchOwnSettings(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  patch: AdditionalInfoPatch,
  ifMatch: IfMatch,
): Promise<VersionedPanel> {
  const changes: Record<string, unknown> = {};
  if (patch.aliasAuthDefault) changes['additionalInfo.aliasAuthDefault'] = patch.aliasAuthDefault;
  // Disabling keeps batchId (§4), so only `enabled` is written.
  if (patch.didAutoProvisioning) changes['additionalInfo.didAutoProvisioning.enabled'] = false;
  const record = await updateOwnAttributes(ctx, caller, id, changes, ifMatch);
  return panelOf(record, await mainOfficeFor(ctx, record));
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
  const other = named && named !== id ? named : undefined;
  const batchId = patch.didAutoProvisioning?.batchId;
  const read = await readPanelInputs(ctx.db, {
    customerId: id,
    mainOfficeId: other,
    didBatchId: batchId,
    registries: patch.officeHierarchy !== undefined,
  });
  const current = read.customer;
  const refusal = guardRefusal(caller, id, current, ifMatch);
  if (refusal || !current) throw refusal ?? notFound();
  // The batch the panel would point to may be the one it already has, not named in the
  // patch: then it is read now. Batches are never changed or deleted, so the write needs
  // no condition on the batch that was read.
  const batchToCheck = didBatchToCheck(current, patch);
  const didBatch =
    batchToCheck === null || batchToCheck === batchId
      ? read.didBatch
      : await readDidBatch(ctx.db, batchToCheck);
  const registries = {
    own: read.registryOf(id),
    target: named ? read.registryOf(named) : undefined,
  };
  const facts = {
    namedMainOffice: read.mainOffice,
    didBatch,
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
 * The planned change as one transaction (a single put without a link). The customer
 * is put whole (its index attributes follow from its state) on condition of the
 * version that was read. The main office it joins and the one it leaves count it in
 * or out, each guarded (see below); its PBX numbers move with it. Listed in the order
 * their errors win: a customer changed meanwhile is re-planned before anything else.
 */
function panelWrites(
  caller: Caller,
  current: CustomerRecord,
  next: CustomerRecord,
  change: PanelChange,
  registries: { readonly own: NumberRegistry; readonly target?: NumberRegistry },
): WriteRequest[] {
  const { from, to } = change.link;
  const putCustomer = customers.put(next, { condition: eq('version', current.version) });
  if (!from && !to) return [putCustomer];
  return [
    putCustomer,
    ...(to ? [joinMainOffice(caller, current, to, next.updatedAt)] : []),
    ...(from ? [leaveMainOffice(from, next.updatedAt)] : []),
    ...numberMovesOnLink(current.id, registries, {
      from: from?.id ?? null,
      to: to?.record.id ?? null,
    }),
  ];
}

const hierarchyPath = 'additionalInfo.officeHierarchy';

/** Counts a branch in (+1) or out (-1) of a main office, bumping its version. */
const branchCounterUpdate = (delta: 1 | -1, otherCurrency: boolean, now: string) => ({
  set: { [`${hierarchyPath}.branchCount`]: increment(delta), updatedAt: now },
  add: { version: 1, ...(otherCurrency ? { otherCurrencyBranchCount: delta } : {}) },
});

/**
 * The main office a branch joins must still be an active main office with the
 * hierarchy enabled and, for a branch of another currency, on individual invoicing.
 * Its version is bumped, so a concurrent demotion of it (conditioned on its version)
 * fails instead. When it changed meanwhile, the main office as it is now says which rule
 * the link breaks.
 */
function joinMainOffice(
  caller: Caller,
  current: CustomerRecord,
  to: NonNullable<LinkChange['to']>,
  now: string,
): WriteRequest {
  return customers.update(
    customerKey(to.record.id),
    branchCounterUpdate(1, to.otherCurrency, now),
    {
      condition: and(
        eq('status', 'active'),
        eq(`${hierarchyPath}.enabled`, true),
        eq(`${hierarchyPath}.office`, 'main'),
        to.otherCurrency ? eq(`${hierarchyPath}.invoicing`, 'individual') : undefined,
      ),
      onConditionFailed: (mainOffice) =>
        mainOfficeRefusal(caller, current, to.record.id, mainOffice) ?? new WriteConflict(),
    },
  );
}

/**
 * The main office a branch leaves is not read: the branch remembers whether it was
 * counted there as of another currency. A terminated main office keeps its branches
 * (its cascade is terminating them), so none escapes it.
 */
function leaveMainOffice(from: NonNullable<LinkChange['from']>, now: string): WriteRequest {
  return customers.update(customerKey(from.id), branchCounterUpdate(-1, from.otherCurrency, now), {
    condition: and(
      eq('status', 'active'),
      gte(`${hierarchyPath}.branchCount`, 1),
      from.otherCurrency ? gte('otherCurrencyBranchCount', 1) : undefined,
    ),
    onConditionFailed: (mainOffice) =>
      mainOffice && mainOffice.status !== 'active'
        ? customerTerminated(mainOffice.id)
        : new WriteConflict(),
  });
}
