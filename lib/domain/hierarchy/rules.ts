import { type CustomerRecord, isMainOffice, mainOfficeOf } from '../../data/customer.js';
import type { DidBatchRecord } from '../../data/did-batch.js';
import { AppError, customerTerminated, validationFailed } from '../../errors.js';
import type { AdditionalInfo, AdditionalInfoPatch } from '../../schemas/additional-info.js';
import { type Caller, canSee } from '../access.js';
import { numberConflict } from '../pbx/number-conflict.js';

/** Only these business models may use the hierarchy of offices (§4). */
export const hierarchyBusinessModels: ReadonlySet<string> = new Set(['universal', 'cloud_pbx']);

/** What the panel's rules need to know besides the customer itself, read with it in one round trip. */
export interface PanelFacts {
  /** The main office the patch names, when it names one other than the customer itself. */
  readonly namedMainOffice: CustomerRecord | undefined;
  /** The DID batch the panel would point to (`didBatchToCheck`), as read; undefined when it does not exist. */
  readonly didBatch: DidBatchRecord | undefined;
  /** The customer's extension and hunt-group numbers the named main office's group already uses. */
  readonly numberConflicts: readonly string[];
  /** Hunt-group members of this branch that are its main office's extensions. */
  readonly inheritedMembers: number;
}

/** How the customer's place in a hierarchy changes: which main office gains or loses a branch. */
export interface LinkChange {
  /** The main office it leaves, and whether it was counted there as of another currency. */
  readonly from: { readonly id: string; readonly otherCurrency: boolean } | null;
  /** The main office it joins (as read), and whether it is counted there as of another currency. */
  readonly to: { readonly record: CustomerRecord; readonly otherCurrency: boolean } | null;
}

export interface PanelChange {
  /** The customer's panel after the patch. */
  readonly additionalInfo: AdditionalInfo;
  readonly linkedWithOtherCurrency: boolean;
  readonly link: LinkChange;
}

/** The DID batch the patch makes the panel point to, if the patch touches auto-provisioning. */
export function didBatchToCheck(
  current: CustomerRecord,
  patch: AdditionalInfoPatch,
): string | null {
  if (!patch.didAutoProvisioning) return null;
  const merged = { ...current.additionalInfo.didAutoProvisioning, ...patch.didAutoProvisioning };
  return merged.enabled || patch.didAutoProvisioning.batchId ? merged.batchId : null;
}

/**
 * Why the panel cannot point to the batch `batchId` (read as `batch`), the first of
 * §4's batch rules it breaks: the batch exists (404), and a paid one charges in the
 * customer's currency (422; a free batch suits any currency). Undefined when it can.
 */
function didBatchRefusal(
  current: CustomerRecord,
  batchId: string,
  batch: DidBatchRecord | undefined,
): AppError | undefined {
  if (!batch) return new AppError('did_batch_not_found', `DID batch ${batchId} does not exist.`);
  if (!batch.pricing.free && batch.pricing.currency !== current.currency) {
    return new AppError(
      'currency_mismatch',
      `DID batch ${batchId} charges in ${batch.pricing.currency}; this customer is billed in ${current.currency}.`,
    );
  }
  return undefined;
}

/**
 * Why `current` cannot join `target` (read for `mainOfficeId`) as a branch, the first of
 * §4's main-office rules it breaks, in the order of its table; undefined when it
 * can. It also explains a link whose write found the main office changed since it was read.
 */
export function mainOfficeRefusal(
  caller: Caller,
  current: CustomerRecord,
  mainOfficeId: string,
  target: CustomerRecord | undefined,
): AppError | undefined {
  if (!target || !canSee(caller, target)) {
    return new AppError('main_office_not_found', `Main office ${mainOfficeId} does not exist.`);
  }
  if (!isMainOffice(target)) {
    return new AppError(
      'main_office_not_main',
      `Customer ${target.id} is not a main office with the hierarchy enabled.`,
    );
  }
  if (target.status !== 'active') return customerTerminated(target.id);
  if (target.id === current.id) {
    return new AppError('main_office_self', 'A customer cannot be its own main office.');
  }
  if (target.resellerId !== current.resellerId) {
    return new AppError(
      'reseller_mismatch',
      'A main office and its branches belong to the same reseller.',
    );
  }
  if (
    target.currency !== current.currency &&
    target.additionalInfo.officeHierarchy.invoicing === 'consolidated'
  ) {
    return new AppError(
      'currency_mismatch',
      `Under consolidated invoicing a branch bills in its main office's currency (${target.currency}).`,
    );
  }
  return undefined;
}

/**
 * Applies a merge patch to a customer's panel and checks §4's rules in the
 * order of its table; the first violated one is thrown. Pure: everything it needs
 * was read beforehand, and the write that follows is conditioned on what was read.
 */
export function planPanelChange(
  caller: Caller,
  current: CustomerRecord,
  patch: AdditionalInfoPatch,
  facts: PanelFacts,
): PanelChange {
  const info = current.additionalInfo;

  // DID auto-provisioning (disabling keeps batchId and the numbers already taken).
  const didAutoProvisioning = { ...info.didAutoProvisioning, ...patch.didAutoProvisioning };
  if (patch.didAutoProvisioning) {
    if (didAutoProvisioning.enabled && didAutoProvisioning.batchId === null) {
      throw new AppError('did_batch_required', 'Enabling auto-provisioning needs a batchId.');
    }
    const batchId = didBatchToCheck(current, patch);
    const refusal =
      batchId === null ? undefined : didBatchRefusal(current, batchId, facts.didBatch);
    if (refusal) throw refusal;
  }

  // The hierarchy of offices, merged field by field; disabling resets it.
  const was = info.officeHierarchy;
  const asked = patch.officeHierarchy ?? {};
  const enabled = asked.enabled ?? was.enabled;
  if (enabled && !hierarchyBusinessModels.has(current.businessModel)) {
    throw new AppError(
      'hierarchy_not_allowed',
      `The hierarchy of offices is for universal and cloud_pbx customers, not ${current.businessModel}.`,
    );
  }
  // Disabling wins over the other fields sent with it (a form may send the whole panel);
  // setting them on a hierarchy that stays off is a mistake worth saying.
  const setsWhileOff =
    !enabled &&
    asked.enabled !== false &&
    (Boolean(asked.office) || Boolean(asked.mainOfficeId) || asked.invoicing === 'consolidated');
  if (setsWhileOff) {
    throw validationFailed([
      {
        path: 'body.officeHierarchy.enabled',
        message: 'must be true to set office, mainOfficeId or consolidated invoicing',
      },
    ]);
  }
  const office = enabled ? (asked.office !== undefined ? asked.office : was.office) : null;
  if (enabled && office === null) {
    throw validationFailed([
      {
        path: 'body.officeHierarchy.office',
        message: 'must be main or branch while the hierarchy is enabled',
      },
    ]);
  }
  if (office === 'main' && asked.mainOfficeId) {
    throw validationFailed([
      { path: 'body.officeHierarchy.mainOfficeId', message: 'must be null for a main office' },
    ]);
  }
  const currentMainOfficeId = mainOfficeOf(current);
  const mainOfficeId =
    office === 'branch'
      ? asked.mainOfficeId !== undefined
        ? asked.mainOfficeId
        : currentMainOfficeId
      : null;
  if (office === 'branch' && !mainOfficeId) {
    throw new AppError('main_office_required', 'A branch names its mainOfficeId.');
  }

  let to: LinkChange['to'] = null;
  if (mainOfficeId && mainOfficeId !== currentMainOfficeId) {
    const target = mainOfficeId === current.id ? current : facts.namedMainOffice;
    const refusal = mainOfficeRefusal(caller, current, mainOfficeId, target);
    if (refusal || !target) throw refusal;
    to = { record: target, otherCurrency: target.currency !== current.currency };
  }

  const stayedMain = isMainOffice(current) && office === 'main';
  const invoicing =
    office === 'main'
      ? (asked.invoicing ?? (stayedMain ? was.invoicing : 'individual'))
      : 'individual';
  if (
    invoicing === 'consolidated' &&
    stayedMain &&
    was.invoicing !== 'consolidated' &&
    current.otherCurrencyBranchCount > 0
  ) {
    throw new AppError(
      'currency_mismatch',
      `${current.otherCurrencyBranchCount} linked branch(es) bill in another currency than ${current.currency}.`,
    );
  }
  const left = currentMainOfficeId !== null && currentMainOfficeId !== mainOfficeId;
  if (to && facts.numberConflicts.length > 0) throw numberConflict(facts.numberConflicts);
  // Beyond the rules table of §4: leaving would leave hunt groups ringing extensions the branch can no longer see.
  if (left && facts.inheritedMembers > 0) {
    throw new AppError(
      'extension_in_use',
      `${facts.inheritedMembers} hunt-group member(s) of this branch are its main office's extensions; remove them first.`,
    );
  }

  if (isMainOffice(current) && was.branchCount > 0 && !stayedMain) {
    throw new AppError(
      'office_has_branches',
      `This main office has ${was.branchCount} linked branch(es); unlink them first.`,
    );
  }
  if (office === 'branch' && asked.invoicing !== undefined) {
    throw new AppError(
      'invoicing_set_on_main',
      'A branch follows its main office’s invoicing; set it there.',
    );
  }

  return {
    additionalInfo: {
      didAutoProvisioning,
      officeHierarchy: {
        enabled,
        office,
        mainOfficeId,
        invoicing,
        branchCount: stayedMain ? was.branchCount : 0,
      },
      aliasAuthDefault: patch.aliasAuthDefault ?? info.aliasAuthDefault,
    },
    linkedWithOtherCurrency: to
      ? to.otherCurrency
      : mainOfficeId
        ? current.linkedWithOtherCurrency
        : false,
    link: {
      from: left
        ? { id: currentMainOfficeId, otherCurrency: current.linkedWithOtherCurrency }
        : null,
      to,
    },
  };
}
