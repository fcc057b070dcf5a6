import { describe, expect, it } from 'vitest';
import type { CustomerRecord } from '../../../../../lib/data/customer.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import {
  didBatchToCheck,
  mainOfficeRefusal,
  type PanelFacts,
  planPanelChange,
} from '../../../../../lib/domain/hierarchy/rules.js';
import { AppError } from '../../../../../lib/errors.js';
import type { AdditionalInfoPatch } from '../../../../../lib/schemas/additional-info.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { didBatch } from '../dids/support.js';

const admin: Caller = { role: 'admin' };
const resellerR1: Caller = { role: 'reseller', resellerId: 'r1' };

const facts = (overrides: Partial<PanelFacts> = {}): PanelFacts => ({
  namedMainOffice: undefined,
  didBatch: undefined,
  numberConflicts: [],
  inheritedMembers: 0,
  ...overrides,
});

/** Runs a plan that must be refused and returns what it threw. */
function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the plan to be refused, but it was accepted');
}

const plan = (
  current: CustomerRecord,
  patch: AdditionalInfoPatch,
  panelFacts: PanelFacts = facts(),
  caller: Caller = admin,
) => planPanelChange(caller, current, patch, panelFacts);

const refused = (
  current: CustomerRecord,
  patch: AdditionalInfoPatch,
  panelFacts: PanelFacts = facts(),
  caller: Caller = admin,
) => refusal(() => plan(current, patch, panelFacts, caller));

const linkTo = (mainOfficeId: string) =>
  ({ officeHierarchy: { enabled: true, office: 'branch', mainOfficeId } }) as const;

describe('didBatchToCheck', () => {
  it('checks no batch when the patch does not touch auto-provisioning', () => {
    const current = customer('c1', { did: { enabled: true, batchId: 'b1' } });
    expect(didBatchToCheck(current, { aliasAuthDefault: 'enabled' })).toBeNull();
    expect(didBatchToCheck(current, { officeHierarchy: { enabled: false } })).toBeNull();
  });

  it('checks the stored batch when enabling without naming one', () => {
    const current = customer('c1', { did: { enabled: false, batchId: 'stored' } });
    expect(didBatchToCheck(current, { didAutoProvisioning: { enabled: true } })).toBe('stored');
  });

  it('checks a named batch, even while auto-provisioning stays or becomes disabled', () => {
    const current = customer('c1', { did: { enabled: true, batchId: 'stored' } });
    expect(didBatchToCheck(current, { didAutoProvisioning: { batchId: 'named' } })).toBe('named');
    expect(
      didBatchToCheck(current, { didAutoProvisioning: { enabled: false, batchId: 'named' } }),
    ).toBe('named');
    expect(didBatchToCheck(customer('c2'), { didAutoProvisioning: { batchId: 'named' } })).toBe(
      'named',
    );
  });

  it('checks no batch when only disabling or clearing the batch of a disabled panel', () => {
    const current = customer('c1', { did: { enabled: true, batchId: 'stored' } });
    expect(didBatchToCheck(current, { didAutoProvisioning: { enabled: false } })).toBeNull();
    expect(
      didBatchToCheck(current, { didAutoProvisioning: { enabled: false, batchId: null } }),
    ).toBeNull();
  });
});

describe('auto-provisioning rules', () => {
  it('refuses enabling without a batch with 422 did_batch_required', () => {
    expect(refused(customer('c1'), { didAutoProvisioning: { enabled: true } })).toMatchObject({
      status: 422,
      code: 'did_batch_required',
    });
  });

  it('refuses clearing the batch of an enabled panel with 422 did_batch_required', () => {
    const current = customer('c1', { did: { enabled: true, batchId: 'b1' } });
    expect(
      refused(
        current,
        { didAutoProvisioning: { batchId: null } },
        facts({ didBatch: didBatch('b1') }),
      ),
    ).toMatchObject({ status: 422, code: 'did_batch_required' });
  });

  it('refuses a batch that does not exist with 404 did_batch_not_found', () => {
    expect(
      refused(customer('c1'), { didAutoProvisioning: { enabled: true, batchId: 'gone' } }),
    ).toMatchObject({ status: 404, code: 'did_batch_not_found' });
    const stored = customer('c2', { did: { enabled: false, batchId: 'gone' } });
    expect(refused(stored, { didAutoProvisioning: { enabled: true } })).toMatchObject({
      status: 404,
      code: 'did_batch_not_found',
    });
  });

  it('enables with an existing batch, merging the nested object field by field', () => {
    const current = customer('c1', { did: { enabled: false, batchId: 'b1' } });
    const change = plan(
      current,
      { didAutoProvisioning: { enabled: true } },
      facts({ didBatch: didBatch('b1') }),
    );
    expect(change.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b1' });
    const renamed = plan(
      customer('c2', { did: { enabled: true, batchId: 'b1' } }),
      { didAutoProvisioning: { batchId: 'b2' } },
      facts({ didBatch: didBatch('b2') }),
    );
    expect(renamed.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b2' });
  });

  it('refuses a paid batch in another currency than the customer’s with 422 currency_mismatch', () => {
    const usd = facts({ didBatch: didBatch('b1', { currency: 'USD' }) });
    expect(
      refused(customer('c1'), { didAutoProvisioning: { enabled: true, batchId: 'b1' } }, usd),
    ).toMatchObject({ status: 422, code: 'currency_mismatch' });
    const stored = customer('c2', { did: { enabled: false, batchId: 'b1' } });
    expect(refused(stored, { didAutoProvisioning: { enabled: true } }, usd)).toMatchObject({
      code: 'currency_mismatch',
    });
    // Pointing a disabled panel at the batch is refused too: enabling later would be.
    expect(refused(customer('c3'), { didAutoProvisioning: { batchId: 'b1' } }, usd)).toMatchObject({
      code: 'currency_mismatch',
    });
  });

  it('accepts a free batch whatever the customer’s currency', () => {
    const change = plan(
      customer('c1', { currency: 'JPY' }),
      { didAutoProvisioning: { enabled: true, batchId: 'b1' } },
      facts({ didBatch: didBatch('b1', { free: true }) }),
    );
    expect(change.additionalInfo.didAutoProvisioning).toEqual({ enabled: true, batchId: 'b1' });
  });

  it('keeps batchId when disabling, without checking that the batch still exists', () => {
    const current = customer('c1', { did: { enabled: true, batchId: 'b1' } });
    const change = plan(current, { didAutoProvisioning: { enabled: false } });
    expect(change.additionalInfo.didAutoProvisioning).toEqual({ enabled: false, batchId: 'b1' });
  });
});

describe('hierarchy_not_allowed', () => {
  const enableMain = { officeHierarchy: { enabled: true, office: 'main' } } as const;

  it.each([
    'sip_trunking',
    'residential_voip',
    'pinless',
    'internet_access',
    'prepaid_cards',
    'mobile',
  ] as const)('refuses enabling the hierarchy for %s with 422', (businessModel) => {
    expect(refused(customer('c1', { businessModel }), enableMain)).toMatchObject({
      status: 422,
      code: 'hierarchy_not_allowed',
    });
  });

  it.each(['universal', 'cloud_pbx'] as const)('allows the hierarchy for %s', (businessModel) => {
    const change = plan(customer('c1', { businessModel }), enableMain);
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'main',
      mainOfficeId: null,
      invoicing: 'individual',
      branchCount: 0,
    });
  });

  it('still lets a customer of another business model change its other settings', () => {
    const current = customer('c1', { businessModel: 'mobile' });
    const change = plan(current, {
      aliasAuthDefault: 'disabled',
      officeHierarchy: { enabled: false },
    });
    expect(change.additionalInfo.aliasAuthDefault).toBe('disabled');
    expect(change.additionalInfo.officeHierarchy.enabled).toBe(false);
  });
});

describe('the office while the hierarchy is enabled', () => {
  it('answers 400 validation_failed naming the office when enabling without one', () => {
    const error = refused(customer('c1'), { officeHierarchy: { enabled: true } });
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(error.errors).toEqual([
      {
        path: 'body.officeHierarchy.office',
        message: 'must be main or branch while the hierarchy is enabled',
      },
    ]);
  });

  it('answers 400 when an enabled main office clears its office', () => {
    const error = refused(mainOffice('c1'), { officeHierarchy: { office: null } });
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(error.errors?.map((fieldError) => fieldError.path)).toEqual([
      'body.officeHierarchy.office',
    ]);
  });

  it('answers 400 naming mainOfficeId when a main office names a main office', () => {
    const hq = mainOffice('hq');
    for (const [current, patch] of [
      [customer('c1'), { officeHierarchy: { enabled: true, office: 'main', mainOfficeId: 'hq' } }],
      [mainOffice('c2'), { officeHierarchy: { mainOfficeId: 'hq' } }],
    ] as const) {
      const error = refused(current, patch, facts({ namedMainOffice: hq }));
      expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(error.errors).toEqual([
        { path: 'body.officeHierarchy.mainOfficeId', message: 'must be null for a main office' },
      ]);
    }
  });

  it('accepts a main office sending mainOfficeId null', () => {
    const change = plan(customer('c1'), {
      officeHierarchy: { enabled: true, office: 'main', mainOfficeId: null },
    });
    expect(change.additionalInfo.officeHierarchy.office).toBe('main');
  });
});

describe('main_office_required', () => {
  it('refuses a branch without a main office with 422', () => {
    expect(
      refused(customer('c1'), { officeHierarchy: { enabled: true, office: 'branch' } }),
    ).toMatchObject({ status: 422, code: 'main_office_required' });
  });

  it('refuses a branch clearing its main office, and a main office becoming a branch without one', () => {
    expect(
      refused(branchOf('c1', 'hq'), { officeHierarchy: { mainOfficeId: null } }),
    ).toMatchObject({ status: 422, code: 'main_office_required' });
    expect(refused(mainOffice('c2'), { officeHierarchy: { office: 'branch' } })).toMatchObject({
      status: 422,
      code: 'main_office_required',
    });
  });
});

describe('main_office_not_found', () => {
  it('refuses a main office that was not found with 404', () => {
    expect(refused(customer('c1'), linkTo('absent'))).toMatchObject({
      status: 404,
      code: 'main_office_not_found',
    });
  });

  it('refuses a main office of another reseller with 404 for a reseller caller', () => {
    const foreign = mainOffice('hq', { resellerId: 'r2' });
    expect(
      refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: foreign }), resellerR1),
    ).toMatchObject({ status: 404, code: 'main_office_not_found' });
    // The same main office is visible to an admin, which meets the later rule instead.
    expect(
      refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: foreign }), admin),
    ).toMatchObject({ status: 422, code: 'reseller_mismatch' });
  });
});

describe('main_office_not_main', () => {
  it.each([
    ['a customer without the hierarchy', customer('hq')],
    ['a branch', branchOf('hq', 'top')],
    [
      'an office main with the hierarchy disabled',
      customer('hq', { hierarchy: { office: 'main' } }),
    ],
  ])('refuses %s as main office with 422', (_label, target) => {
    expect(refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: target }))).toMatchObject(
      { status: 422, code: 'main_office_not_main' },
    );
  });
});

describe('customer_terminated', () => {
  it('refuses a terminated main office with 409', () => {
    const terminated = mainOffice('hq', { status: 'terminated' });
    const error = refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: terminated }));
    expect(error).toMatchObject({ status: 409, code: 'customer_terminated' });
    expect(error.message).toContain('hq');
  });
});

describe('main_office_self', () => {
  it('refuses a main office naming itself with 422', () => {
    expect(
      refused(mainOffice('c1'), { officeHierarchy: { office: 'branch', mainOfficeId: 'c1' } }),
    ).toMatchObject({ status: 422, code: 'main_office_self' });
  });
});

describe('reseller_mismatch', () => {
  it.each([
    ['another reseller', 'r2'],
    ['no reseller', null],
  ])('refuses a main office of %s for an admin with 422', (_label, resellerId) => {
    const hq = mainOffice('hq', { resellerId });
    expect(refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }))).toMatchObject({
      status: 422,
      code: 'reseller_mismatch',
    });
  });

  it('links customers without a reseller to a main office without one', () => {
    const hq = mainOffice('hq', { resellerId: null });
    const change = plan(
      customer('c1', { resellerId: null }),
      linkTo('hq'),
      facts({ namedMainOffice: hq }),
    );
    expect(change.link.to?.record).toBe(hq);
  });
});

describe('currency_mismatch', () => {
  it('refuses linking to a consolidated main office of another currency with 422', () => {
    const hq = mainOffice('hq', { currency: 'USD', hierarchy: { invoicing: 'consolidated' } });
    expect(refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }))).toMatchObject({
      status: 422,
      code: 'currency_mismatch',
    });
  });

  it('links to an individually invoiced main office of another currency, counted as such', () => {
    const hq = mainOffice('hq', { currency: 'USD', hierarchy: { invoicing: 'individual' } });
    const change = plan(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }));
    expect(change.linkedWithOtherCurrency).toBe(true);
    expect(change.link).toEqual({ from: null, to: { record: hq, otherCurrency: true } });
  });

  it('links to a consolidated main office of the same currency', () => {
    const hq = mainOffice('hq', { hierarchy: { invoicing: 'consolidated' } });
    const change = plan(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }));
    expect(change.linkedWithOtherCurrency).toBe(false);
    expect(change.link.to).toEqual({ record: hq, otherCurrency: false });
  });

  it('refuses a main office with branches of another currency switching to consolidated', () => {
    const hq = mainOffice('hq', { otherCurrencyBranchCount: 1, hierarchy: { branchCount: 2 } });
    const error = refused(hq, { officeHierarchy: { invoicing: 'consolidated' } });
    expect(error).toMatchObject({ status: 422, code: 'currency_mismatch' });
    expect(error.message).toContain('1 linked branch');
  });

  it('lets a main office whose branches share its currency switch to consolidated', () => {
    const hq = mainOffice('hq', { hierarchy: { branchCount: 3 } });
    const change = plan(hq, { officeHierarchy: { invoicing: 'consolidated' } });
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'main',
      mainOfficeId: null,
      invoicing: 'consolidated',
      branchCount: 3,
    });
    expect(change.link).toEqual({ from: null, to: null });
  });
});

describe('office_has_branches', () => {
  const withBranches = () => mainOffice('c1', { hierarchy: { branchCount: 2 } });

  it('refuses a main office with branches becoming a branch with 409', () => {
    const other = mainOffice('hq2');
    const error = refused(
      withBranches(),
      { officeHierarchy: { office: 'branch', mainOfficeId: 'hq2' } },
      facts({ namedMainOffice: other }),
    );
    expect(error).toMatchObject({ status: 409, code: 'office_has_branches' });
    expect(error.message).toContain('2 linked branch');
  });

  it('refuses a main office with branches disabling the hierarchy with 409', () => {
    expect(refused(withBranches(), { officeHierarchy: { enabled: false } })).toMatchObject({
      status: 409,
      code: 'office_has_branches',
    });
  });

  it('lets a main office without branches become a branch or disable the hierarchy', () => {
    const other = mainOffice('hq2');
    const demoted = plan(
      mainOffice('c1'),
      { officeHierarchy: { office: 'branch', mainOfficeId: 'hq2' } },
      facts({ namedMainOffice: other }),
    );
    expect(demoted.additionalInfo.officeHierarchy).toMatchObject({
      office: 'branch',
      mainOfficeId: 'hq2',
      branchCount: 0,
    });
    const disabled = plan(mainOffice('c2'), { officeHierarchy: { enabled: false } });
    expect(disabled.additionalInfo.officeHierarchy.enabled).toBe(false);
  });
});

describe('invoicing_set_on_main', () => {
  it('refuses invoicing on a branch with 422, even the value it already has', () => {
    for (const invoicing of ['consolidated', 'individual'] as const) {
      expect(refused(branchOf('c1', 'hq'), { officeHierarchy: { invoicing } })).toMatchObject({
        status: 422,
        code: 'invoicing_set_on_main',
      });
    }
  });

  it('refuses invoicing sent with a link', () => {
    const hq = mainOffice('hq');
    expect(
      refused(
        customer('c1'),
        { officeHierarchy: { ...linkTo('hq').officeHierarchy, invoicing: 'individual' } },
        facts({ namedMainOffice: hq }),
      ),
    ).toMatchObject({ status: 422, code: 'invoicing_set_on_main' });
  });
});

describe('the first violated rule in table order answers', () => {
  it('did_batch_not_found before hierarchy_not_allowed', () => {
    const current = customer('c1', { businessModel: 'pinless' });
    expect(
      refused(current, {
        didAutoProvisioning: { enabled: true, batchId: 'gone' },
        officeHierarchy: { enabled: true, office: 'main' },
      }),
    ).toMatchObject({ code: 'did_batch_not_found' });
  });

  it('currency_mismatch of the batch before hierarchy_not_allowed', () => {
    const current = customer('c1', { businessModel: 'pinless' });
    expect(
      refused(
        current,
        {
          didAutoProvisioning: { enabled: true, batchId: 'b1' },
          officeHierarchy: { enabled: true, office: 'main' },
        },
        facts({ didBatch: didBatch('b1', { currency: 'GBP' }) }),
      ),
    ).toMatchObject({ code: 'currency_mismatch' });
  });

  it('hierarchy_not_allowed before the missing office (400)', () => {
    const current = customer('c1', { businessModel: 'sip_trunking' });
    expect(refused(current, { officeHierarchy: { enabled: true } })).toMatchObject({
      status: 422,
      code: 'hierarchy_not_allowed',
    });
  });

  it('main_office_required before invoicing_set_on_main', () => {
    expect(
      refused(customer('c1'), {
        officeHierarchy: { enabled: true, office: 'branch', invoicing: 'consolidated' },
      }),
    ).toMatchObject({ code: 'main_office_required' });
  });

  it('main_office_not_found before main_office_not_main (out of scope and not main)', () => {
    const foreignBranch = branchOf('hq', 'top', { resellerId: 'r2' });
    expect(
      refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: foreignBranch }), resellerR1),
    ).toMatchObject({ code: 'main_office_not_found' });
  });

  it('main_office_not_found before office_has_branches', () => {
    const hq = mainOffice('c1', { hierarchy: { branchCount: 1 } });
    expect(
      refused(hq, { officeHierarchy: { office: 'branch', mainOfficeId: 'absent' } }),
    ).toMatchObject({ code: 'main_office_not_found' });
  });

  it('main_office_not_main before customer_terminated', () => {
    const terminatedStandalone = customer('hq', { status: 'terminated' });
    expect(
      refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: terminatedStandalone })),
    ).toMatchObject({ code: 'main_office_not_main' });
  });

  it('main_office_not_main before main_office_self when a customer that is no HQ names itself', () => {
    expect(refused(customer('c1'), linkTo('c1'))).toMatchObject({ code: 'main_office_not_main' });
  });

  it('customer_terminated before reseller_mismatch and currency_mismatch', () => {
    const hq = mainOffice('hq', {
      status: 'terminated',
      resellerId: 'r2',
      currency: 'USD',
      hierarchy: { invoicing: 'consolidated' },
    });
    expect(refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }))).toMatchObject({
      status: 409,
      code: 'customer_terminated',
    });
  });

  it('customer_terminated before main_office_self (a terminated main office naming itself)', () => {
    // The service refuses a terminated customer before planning; the plan alone keeps the order.
    const hq = mainOffice('c1', { status: 'terminated' });
    expect(
      refused(hq, { officeHierarchy: { office: 'branch', mainOfficeId: 'c1' } }),
    ).toMatchObject({ status: 409, code: 'customer_terminated' });
  });

  it('main_office_self before office_has_branches', () => {
    const hq = mainOffice('c1', { hierarchy: { branchCount: 4 } });
    expect(
      refused(hq, { officeHierarchy: { office: 'branch', mainOfficeId: 'c1' } }),
    ).toMatchObject({ code: 'main_office_self' });
  });

  it('reseller_mismatch before currency_mismatch', () => {
    const hq = mainOffice('hq', {
      resellerId: 'r2',
      currency: 'USD',
      hierarchy: { invoicing: 'consolidated' },
    });
    expect(refused(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }))).toMatchObject({
      code: 'reseller_mismatch',
    });
  });

  it('currency_mismatch before office_has_branches', () => {
    const current = mainOffice('c1', { hierarchy: { branchCount: 2 } });
    const hq = mainOffice('hq', { currency: 'USD', hierarchy: { invoicing: 'consolidated' } });
    expect(
      refused(
        current,
        { officeHierarchy: { office: 'branch', mainOfficeId: 'hq' } },
        facts({ namedMainOffice: hq }),
      ),
    ).toMatchObject({ status: 422, code: 'currency_mismatch' });
  });

  it('office_has_branches before invoicing_set_on_main', () => {
    const current = mainOffice('c1', { hierarchy: { branchCount: 2 } });
    expect(
      refused(
        current,
        { officeHierarchy: { office: 'branch', mainOfficeId: 'hq', invoicing: 'individual' } },
        facts({ namedMainOffice: mainOffice('hq') }),
      ),
    ).toMatchObject({ status: 409, code: 'office_has_branches' });
  });
});

describe('merging the patch', () => {
  it('resets office, mainOfficeId and invoicing on disabling, ignoring the hierarchy fields sent with it', () => {
    const current = branchOf('c1', 'hq', { linkedWithOtherCurrency: true });
    const change = plan(current, {
      officeHierarchy: {
        enabled: false,
        office: 'main',
        mainOfficeId: 'elsewhere',
        invoicing: 'consolidated',
      },
    });
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: false,
      office: null,
      mainOfficeId: null,
      invoicing: 'individual',
      branchCount: 0,
    });
    expect(change.linkedWithOtherCurrency).toBe(false);
    expect(change.link).toEqual({ from: { id: 'hq', otherCurrency: true }, to: null });
  });

  it('resets a consolidated main office without branches to individual on disabling', () => {
    const current = mainOffice('c1', { hierarchy: { invoicing: 'consolidated' } });
    const change = plan(current, { officeHierarchy: { enabled: false } });
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: false,
      office: null,
      mainOfficeId: null,
      invoicing: 'individual',
      branchCount: 0,
    });
    expect(change.link).toEqual({ from: null, to: null });
  });

  it('changes aliasAuthDefault alone and keeps it when the patch leaves it out', () => {
    const current = mainOffice('c1', {
      aliasAuthDefault: 'disabled',
      did: { enabled: true, batchId: 'b1' },
      hierarchy: { branchCount: 1, invoicing: 'consolidated' },
    });
    expect(plan(current, { aliasAuthDefault: 'enabled' }).additionalInfo).toEqual({
      ...current.additionalInfo,
      aliasAuthDefault: 'enabled',
    });
    expect(
      plan(current, { officeHierarchy: { invoicing: 'individual' } }).additionalInfo
        .aliasAuthDefault,
    ).toBe('disabled');
  });

  it('keeps branchCount for a main office that stays main, and 0 otherwise', () => {
    const hq = mainOffice('c1', { hierarchy: { branchCount: 5 } });
    expect(
      plan(hq, { officeHierarchy: { office: 'main' } }).additionalInfo.officeHierarchy.branchCount,
    ).toBe(5);
    expect(
      plan(hq, { aliasAuthDefault: 'enabled' }).additionalInfo.officeHierarchy.branchCount,
    ).toBe(5);
    const promoted = plan(branchOf('c2', 'hq'), { officeHierarchy: { office: 'main' } });
    expect(promoted.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'main',
      mainOfficeId: null,
      invoicing: 'individual',
      branchCount: 0,
    });
  });

  it('derives branchCount 0 for a customer that is no main office, whatever counter it stored', () => {
    const stale = customer('c1', { hierarchy: { branchCount: 2 } });
    expect(
      plan(stale, { officeHierarchy: { enabled: true, office: 'main' } }).additionalInfo
        .officeHierarchy.branchCount,
    ).toBe(0);
    const staleBranch = branchOf('c2', 'hq', { hierarchy: { branchCount: 2 } });
    expect(
      plan(staleBranch, { aliasAuthDefault: 'enabled' }).additionalInfo.officeHierarchy.branchCount,
    ).toBe(0);
  });

  it('stores a branch’s invoicing as individual, whatever its main office’s', () => {
    const hq = mainOffice('hq', { hierarchy: { invoicing: 'consolidated', branchCount: 1 } });
    const change = plan(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }));
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'individual',
      branchCount: 0,
    });
  });

  it('gives a main office becoming a branch the individual invoicing and no branches', () => {
    const current = mainOffice('c1', { hierarchy: { invoicing: 'consolidated' } });
    const hq = mainOffice('hq');
    const change = plan(
      current,
      { officeHierarchy: { office: 'branch', mainOfficeId: 'hq' } },
      facts({ namedMainOffice: hq }),
    );
    expect(change.additionalInfo.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: 'hq',
      invoicing: 'individual',
      branchCount: 0,
    });
    expect(change.link).toEqual({ from: null, to: { record: hq, otherCurrency: false } });
  });

  it('lets a new main office choose its invoicing', () => {
    const change = plan(customer('c1'), {
      officeHierarchy: { enabled: true, office: 'main', invoicing: 'consolidated' },
    });
    expect(change.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
  });
});

describe('the link change', () => {
  it('links: from null, to the main office as read', () => {
    const hq = mainOffice('hq');
    const change = plan(customer('c1'), linkTo('hq'), facts({ namedMainOffice: hq }));
    expect(change.link).toEqual({ from: null, to: { record: hq, otherCurrency: false } });
    expect(change.link.to?.record).toBe(hq);
    expect(change.linkedWithOtherCurrency).toBe(false);
  });

  it('unlinks by becoming a main office: from the old main office with its currency flag, to null', () => {
    const current = branchOf('c1', 'hq', { linkedWithOtherCurrency: true });
    const change = plan(current, { officeHierarchy: { office: 'main' } });
    expect(change.link).toEqual({ from: { id: 'hq', otherCurrency: true }, to: null });
    expect(change.linkedWithOtherCurrency).toBe(false);
    const sameCurrency = plan(branchOf('c2', 'hq'), { officeHierarchy: { office: 'main' } });
    expect(sameCurrency.link).toEqual({ from: { id: 'hq', otherCurrency: false }, to: null });
  });

  it('relinks: from the old main office, to the new one, each with its own currency flag', () => {
    const current = branchOf('c1', 'old', { linkedWithOtherCurrency: true });
    const next = mainOffice('new');
    const change = plan(
      current,
      { officeHierarchy: { mainOfficeId: 'new' } },
      facts({ namedMainOffice: next }),
    );
    expect(change.link).toEqual({
      from: { id: 'old', otherCurrency: true },
      to: { record: next, otherCurrency: false },
    });
    expect(change.linkedWithOtherCurrency).toBe(false);
    expect(change.additionalInfo.officeHierarchy.mainOfficeId).toBe('new');
  });

  it('re-sending the current link changes nothing and re-checks nothing', () => {
    const current = branchOf('c1', 'hq', { linkedWithOtherCurrency: true });
    // The main office as read would now fail several rules; an existing link is not re-checked.
    const changedSince = mainOffice('hq', {
      currency: 'USD',
      resellerId: 'r2',
      hierarchy: { invoicing: 'consolidated' },
    });
    const change = plan(current, linkTo('hq'), facts({ namedMainOffice: changedSince }));
    expect(change.link).toEqual({ from: null, to: null });
    expect(change.additionalInfo).toEqual(current.additionalInfo);
    expect(change.linkedWithOtherCurrency).toBe(true);
  });

  it('keeps the link of a branch that changes other settings', () => {
    const current = branchOf('c1', 'hq', { linkedWithOtherCurrency: true });
    const change = plan(current, { aliasAuthDefault: 'enabled' });
    expect(change.link).toEqual({ from: null, to: null });
    expect(change.linkedWithOtherCurrency).toBe(true);
    expect(change.additionalInfo.officeHierarchy.mainOfficeId).toBe('hq');
  });
});

describe('leaving a main office whose extensions the branch’s hunt groups use', () => {
  it('is 409 extension_in_use, for an unlink and for a move alike', () => {
    const inUse = facts({ inheritedMembers: 2 });
    expect(
      refused(branchOf('c1', 'hq'), { officeHierarchy: { enabled: false } }, inUse),
    ).toMatchObject({
      status: 409,
      code: 'extension_in_use',
    });
    expect(
      refused(
        branchOf('c1', 'hq'),
        { officeHierarchy: { mainOfficeId: 'hq2' } },
        facts({ ...inUse, namedMainOffice: mainOffice('hq2') }),
      ),
    ).toMatchObject({ status: 409, code: 'extension_in_use' });
  });

  it('does not stop a branch that stays, nor one whose hunt groups use only its own extensions', () => {
    expect(() =>
      plan(
        branchOf('c1', 'hq'),
        { aliasAuthDefault: 'enabled' },
        facts({ inheritedMembers: 2 }),
        admin,
      ),
    ).not.toThrow();
    expect(() =>
      plan(branchOf('c1', 'hq'), { officeHierarchy: { enabled: false } }, facts(), admin),
    ).not.toThrow();
  });
});

describe('mainOfficeRefusal', () => {
  const branch = customer('c1');

  it('accepts an active main office of the same reseller', () => {
    expect(mainOfficeRefusal(admin, branch, 'hq', mainOffice('hq'))).toBeUndefined();
  });

  it.each([
    ['absent', undefined, admin, 'main_office_not_found'],
    ['out of scope', mainOffice('hq', { resellerId: 'r2' }), resellerR1, 'main_office_not_found'],
    ['no main office', customer('hq'), admin, 'main_office_not_main'],
    ['terminated', mainOffice('hq', { status: 'terminated' }), admin, 'customer_terminated'],
    ['the customer itself', mainOffice('c1'), admin, 'main_office_self'],
    ['of another reseller', mainOffice('hq', { resellerId: 'r2' }), admin, 'reseller_mismatch'],
    [
      'consolidated in another currency',
      mainOffice('hq', { currency: 'USD', hierarchy: { invoicing: 'consolidated' } }),
      admin,
      'currency_mismatch',
    ],
  ] as const)('refuses a main office that is %s', (_label, target, caller, code) => {
    expect(mainOfficeRefusal(caller, branch, 'hq', target)).toMatchObject({ code });
  });
});
