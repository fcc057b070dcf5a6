import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCustomer,
  createMainOffice,
  linkBranch,
  markTerminated,
  patchPanel,
  readPanel,
} from './support/customers.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(() => api?.stop());

const unknownId = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

const linkTo = (mainOfficeId: string) => ({
  officeHierarchy: { enabled: true, office: 'branch', mainOfficeId },
});

/** Runs a patch that must be refused, and checks that the panel and its ETag did not move. */
async function expectRefused(
  token: string,
  id: string,
  body: unknown,
  status: number,
  code: string,
  headers: Record<string, string> = {},
) {
  const before = await readPanel(api, admin, id);
  const answer = await patchPanel(api, token, id, body, headers);
  expect(answer.status).toBe(status);
  expect(answer.body.code).toBe(code);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(await readPanel(api, admin, id)).toEqual(before);
  return answer;
}

describe('reading and merging the panel', () => {
  it('starts with the defaults of §4 and an ETag', async () => {
    const { id } = await createCustomer(api, admin);
    expect(await readPanel(api, admin, id)).toEqual({
      etag: '"1"',
      panel: {
        didAutoProvisioning: { enabled: false, batchId: null },
        officeHierarchy: {
          enabled: false,
          office: null,
          mainOfficeId: null,
          invoicing: 'individual',
          branchCount: 0,
        },
        aliasAuthDefault: 'system',
      },
    });
  });

  it('changes aliasAuthDefault alone, bumping the ETag, and honours If-Match', async () => {
    const { id } = await createCustomer(api, admin);
    const changed = await patchPanel(
      api,
      admin,
      id,
      { aliasAuthDefault: 'disabled' },
      { 'if-match': '"1"' },
    );
    expect(changed).toMatchObject({ status: 200, body: { aliasAuthDefault: 'disabled' } });
    expect(changed.headers.get('etag')).toBe('"2"');
    await expectRefused(admin, id, { aliasAuthDefault: 'enabled' }, 412, 'precondition_failed', {
      'if-match': '"1"',
    });
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true, office: 'main' } },
      412,
      'precondition_failed',
      { 'if-match': '"1"' },
    );
  });

  it('merges nested objects field by field', async () => {
    const { id } = await createMainOffice(api, admin);
    const answer = await patchPanel(api, admin, id, {
      officeHierarchy: { invoicing: 'consolidated' },
    });
    expect(answer.body.officeHierarchy).toEqual({
      enabled: true,
      office: 'main',
      mainOfficeId: null,
      invoicing: 'consolidated',
      branchCount: 0,
    });
    const disabled = await patchPanel(api, admin, id, { officeHierarchy: { enabled: false } });
    expect(disabled.body.officeHierarchy).toEqual({
      enabled: false,
      office: null,
      mainOfficeId: null,
      invoicing: 'individual',
      branchCount: 0,
    });
    expect(disabled.body.aliasAuthDefault).toBe('system');
  });

  it('lets the customer read its panel but not change it, and hides other tenants’ panels', async () => {
    const reseller = await api.tokens.reseller('panel-r1');
    const { id } = await createCustomer(api, reseller);
    const self = await api.tokens.customer(id);
    expect(
      (await api.request('GET', `/customers/${id}/additional-info`, { token: self })).status,
    ).toBe(200);
    await expectRefused(self, id, { aliasAuthDefault: 'enabled' }, 403, 'forbidden');
    const other = await api.tokens.reseller('panel-r2');
    expect(
      (await api.request('GET', `/customers/${id}/additional-info`, { token: other })).status,
    ).toBe(404);
    await expectRefused(other, id, { aliasAuthDefault: 'enabled' }, 404, 'not_found');
    expect(
      (await api.request('GET', `/customers/${id}/additional-info`, { token: api.tokens.switch }))
        .status,
    ).toBe(403);
  });

  it('refuses unknown and derived fields with 400', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { branchCount: 3 } },
      400,
      'validation_failed',
    );
    await expectRefused(admin, id, { colour: 'red' }, 400, 'validation_failed');
    await expectRefused(admin, id, { aliasAuthDefault: 'sometimes' }, 400, 'validation_failed');
  });

  it('answers an id of any shape that names nothing with its rule’s 404', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(admin, id, linkTo('not-a-ulid'), 404, 'main_office_not_found');
    await expectRefused(
      admin,
      id,
      { didAutoProvisioning: { enabled: true, batchId: 'x' } },
      404,
      'did_batch_not_found',
    );
    const panel = await api.request('GET', '/customers/not-a-ulid/additional-info', {
      token: admin,
    });
    expect(panel).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('refuses with 400 a value no id could ever be', async () => {
    const { id } = await createCustomer(api, admin);
    for (const impossible of ['x'.repeat(300), 'has space', 'a/b', '']) {
      const answer = await expectRefused(admin, id, linkTo(impossible), 400, 'validation_failed');
      expect(answer.body.errors).toEqual([
        { path: 'body.officeHierarchy.mainOfficeId', message: expect.any(String) },
      ]);
      await expectRefused(
        admin,
        id,
        { didAutoProvisioning: { enabled: true, batchId: impossible } },
        400,
        'validation_failed',
      );
    }
    const panel = await api.request('GET', `/customers/${'x'.repeat(300)}/additional-info`, {
      token: admin,
    });
    expect(panel).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  });
});

describe('the rules of §4, each with its status and code, changing nothing', () => {
  it('needs a batch to enable auto-provisioning, and an existing one', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(
      admin,
      id,
      { didAutoProvisioning: { enabled: true } },
      422,
      'did_batch_required',
    );
    await expectRefused(
      admin,
      id,
      { didAutoProvisioning: { enabled: true, batchId: unknownId } },
      404,
      'did_batch_not_found',
    );
    const disabled = await patchPanel(api, admin, id, { didAutoProvisioning: { enabled: false } });
    expect(disabled.body.didAutoProvisioning).toEqual({ enabled: false, batchId: null });
  });

  it('allows the hierarchy only for universal and cloud_pbx', async () => {
    const { id } = await createCustomer(api, admin, { businessModel: 'sip_trunking' });
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true, office: 'main' } },
      422,
      'hierarchy_not_allowed',
    );
    const pbx = await createCustomer(api, admin, { businessModel: 'cloud_pbx' });
    expect(
      (await patchPanel(api, admin, pbx.id, { officeHierarchy: { enabled: true, office: 'main' } }))
        .status,
    ).toBe(200);
  });

  it('needs an office while the hierarchy is enabled (400)', async () => {
    const { id } = await createCustomer(api, admin);
    const answer = await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true } },
      400,
      'validation_failed',
    );
    expect(answer.body.errors).toEqual([
      { path: 'body.officeHierarchy.office', message: expect.any(String) },
    ]);
  });

  it('needs a branch to name its main office', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true, office: 'branch' } },
      422,
      'main_office_required',
    );
  });

  it('needs the main office to exist in the caller’s scope', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: unknownId } },
      404,
      'main_office_not_found',
    );
    const reseller = await api.tokens.reseller('scope-hq-r1');
    const foreignHq = await createMainOffice(api, await api.tokens.reseller('scope-hq-r2'));
    const mine = await createCustomer(api, reseller);
    await expectRefused(
      reseller,
      mine.id,
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: foreignHq.id } },
      404,
      'main_office_not_found',
    );
  });

  it('needs the main office to be a main office with the hierarchy enabled', async () => {
    const standalone = await createCustomer(api, admin);
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    expect((await linkBranch(api, admin, branch.id, hq.id)).status).toBe(200);
    for (const target of [standalone.id, branch.id]) {
      const candidate = await createCustomer(api, admin);
      await expectRefused(
        admin,
        candidate.id,
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: target } },
        422,
        'main_office_not_main',
      );
    }
  });

  it('needs the main office to be active', async () => {
    const hq = await createMainOffice(api, admin);
    await markTerminated(api, hq.id);
    const candidate = await createCustomer(api, admin);
    await expectRefused(
      admin,
      candidate.id,
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq.id } },
      409,
      'customer_terminated',
    );
  });

  it('refuses a customer as its own main office', async () => {
    const hq = await createMainOffice(api, admin);
    await expectRefused(
      admin,
      hq.id,
      { officeHierarchy: { office: 'branch', mainOfficeId: hq.id } },
      422,
      'main_office_self',
    );
  });

  it('needs HQ and branch of the same reseller', async () => {
    const hq = await createMainOffice(api, admin, { resellerId: 'mismatch-a' });
    const branch = await createCustomer(api, admin, { resellerId: 'mismatch-b' });
    await expectRefused(
      admin,
      branch.id,
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq.id } },
      422,
      'reseller_mismatch',
    );
  });

  it('needs one currency under consolidated invoicing, also when an HQ with branches switches to it', async () => {
    const consolidated = await createMainOffice(api, admin, { currency: 'EUR' });
    await patchPanel(api, admin, consolidated.id, {
      officeHierarchy: { invoicing: 'consolidated' },
    });
    const dollars = await createCustomer(api, admin, { currency: 'USD' });
    await expectRefused(
      admin,
      dollars.id,
      { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: consolidated.id } },
      422,
      'currency_mismatch',
    );

    const individual = await createMainOffice(api, admin, { currency: 'EUR' });
    expect((await linkBranch(api, admin, dollars.id, individual.id)).status).toBe(200);
    await expectRefused(
      admin,
      individual.id,
      { officeHierarchy: { invoicing: 'consolidated' } },
      422,
      'currency_mismatch',
    );
    // Once the other-currency branch leaves, the switch is allowed.
    await patchPanel(api, admin, dollars.id, { officeHierarchy: { enabled: false } });
    expect(
      (
        await patchPanel(api, admin, individual.id, {
          officeHierarchy: { invoicing: 'consolidated' },
        })
      ).status,
    ).toBe(200);
  });

  it('keeps an HQ with branches from becoming a branch or disabling the hierarchy', async () => {
    const hq = await createMainOffice(api, admin);
    const otherHq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, hq.id);
    await expectRefused(
      admin,
      hq.id,
      { officeHierarchy: { office: 'branch', mainOfficeId: otherHq.id } },
      409,
      'office_has_branches',
    );
    await expectRefused(
      admin,
      hq.id,
      { officeHierarchy: { enabled: false } },
      409,
      'office_has_branches',
    );
  });

  it('sets invoicing on the HQ only', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, hq.id);
    await expectRefused(
      admin,
      branch.id,
      { officeHierarchy: { invoicing: 'consolidated' } },
      422,
      'invoicing_set_on_main',
    );
  });

  it('refuses any change to a terminated customer with 409 customer_terminated; it still reads', async () => {
    const { id } = await createCustomer(api, admin);
    await markTerminated(api, id);
    await expectRefused(admin, id, { aliasAuthDefault: 'enabled' }, 409, 'customer_terminated');
    await expectRefused(
      admin,
      id,
      { officeHierarchy: { enabled: true, office: 'main' } },
      409,
      'customer_terminated',
    );
  });

  it('answers the first violated rule in the table’s order', async () => {
    const { id } = await createCustomer(api, admin, { businessModel: 'mobile' });
    // Both did_batch_required and hierarchy_not_allowed are violated: the DID rule comes first.
    await expectRefused(
      admin,
      id,
      {
        didAutoProvisioning: { enabled: true },
        officeHierarchy: { enabled: true, office: 'main' },
      },
      422,
      'did_batch_required',
    );
  });
});

describe('linking and unlinking branches', () => {
  it('counts branches on the HQ and shows the HQ’s invoicing on the branch, at once', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    const linked = await linkBranch(api, admin, branch.id, hq.id);
    expect(linked.body.officeHierarchy).toEqual({
      enabled: true,
      office: 'branch',
      mainOfficeId: hq.id,
      invoicing: 'individual',
      branchCount: 0,
    });
    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount).toBe(1);
    await patchPanel(api, admin, hq.id, { officeHierarchy: { invoicing: 'consolidated' } });
    expect((await readPanel(api, admin, branch.id)).panel.officeHierarchy.invoicing).toBe(
      'consolidated',
    );
    const customer = await api.request('GET', `/customers/${branch.id}`, { token: admin });
    expect(customer.body.additionalInfo.officeHierarchy.invoicing).toBe('consolidated');
  });

  it('unlinks at once by becoming a main office or disabling the hierarchy', async () => {
    const hq = await createMainOffice(api, admin);
    const one = await createCustomer(api, admin, { name: 'One' });
    const two = await createCustomer(api, admin, { name: 'Two' });
    await linkBranch(api, admin, one.id, hq.id);
    await linkBranch(api, admin, two.id, hq.id);
    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount).toBe(2);

    const promoted = await patchPanel(api, admin, one.id, { officeHierarchy: { office: 'main' } });
    expect(promoted.body.officeHierarchy).toMatchObject({
      office: 'main',
      mainOfficeId: null,
      branchCount: 0,
    });
    const disabled = await patchPanel(api, admin, two.id, { officeHierarchy: { enabled: false } });
    expect(disabled.body.officeHierarchy).toMatchObject({
      enabled: false,
      office: null,
      mainOfficeId: null,
    });

    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount).toBe(0);
    expect(
      (await api.request('GET', `/customers/${hq.id}/branches`, { token: admin })).body.items,
    ).toEqual([]);
    // With no branches left, the HQ may now step down.
    expect(
      (await patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } })).status,
    ).toBe(200);
  });

  it('moves a branch from one HQ to another in one step', async () => {
    const first = await createMainOffice(api, admin);
    const second = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, first.id);
    const moved = await patchPanel(api, admin, branch.id, {
      officeHierarchy: { mainOfficeId: second.id },
    });
    expect(moved.body.officeHierarchy.mainOfficeId).toBe(second.id);
    expect((await readPanel(api, admin, first.id)).panel.officeHierarchy.branchCount).toBe(0);
    expect((await readPanel(api, admin, second.id)).panel.officeHierarchy.branchCount).toBe(1);
  });

  it('treats re-sending the current state as no change', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, hq.id);
    const before = await readPanel(api, admin, branch.id);
    const again = await linkBranch(api, admin, branch.id, hq.id);
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(before.etag);
    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount).toBe(1);
  });
});

describe('the Main office dropdown and the branch list', () => {
  it('lists active main offices in the caller’s scope by name prefix, page by page', async () => {
    const reseller = await api.tokens.reseller('dropdown-r1');
    for (const name of ['Zeta HQ', 'zebra HQ', 'Zulu HQ'])
      await createMainOffice(api, reseller, { name });
    await createCustomer(api, reseller, { name: 'Zed plain' });
    const terminated = await createMainOffice(api, reseller, { name: 'Zombie HQ' });
    await markTerminated(api, terminated.id);
    const demoted = await createMainOffice(api, reseller, { name: 'Zero HQ' });
    await patchPanel(api, reseller, demoted.id, { officeHierarchy: { enabled: false } });
    await createMainOffice(api, await api.tokens.reseller('dropdown-r2'), { name: 'Zeal HQ' });

    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api.request(
        'GET',
        `/customers?office=main&q=z&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: reseller },
      );
      expect(page.status).toBe(200);
      names.push(...page.body.items.map((item: { name: string }) => item.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(names).toEqual(['zebra HQ', 'Zeta HQ', 'Zulu HQ']);
    const all = await api.request('GET', '/customers?office=main&q=ze', { token: admin });
    expect(all.body.items.map((item: { name: string }) => item.name)).toEqual([
      'Zeal HQ',
      'zebra HQ',
      'Zeta HQ',
    ]);
  });

  it('lists an HQ’s branches as {id, name, status}, paged and scoped', async () => {
    const reseller = await api.tokens.reseller('branches-r1');
    const hq = await createMainOffice(api, reseller);
    const ids: string[] = [];
    for (const name of ['b3', 'b1', 'b2']) {
      const branch = await createCustomer(api, reseller, { name });
      await linkBranch(api, reseller, branch.id, hq.id);
      ids.push(branch.id);
    }
    const first = await api.request('GET', `/customers/${hq.id}/branches?limit=2`, {
      token: reseller,
    });
    expect(first.body.items).toEqual([
      { id: ids[1], name: 'b1', status: 'active' },
      { id: ids[2], name: 'b2', status: 'active' },
    ]);
    const second = await api.request(
      'GET',
      `/customers/${hq.id}/branches?limit=2&cursor=${first.body.nextCursor}`,
      { token: reseller },
    );
    expect(second.body).toEqual({
      items: [{ id: ids[0], name: 'b3', status: 'active' }],
      nextCursor: null,
    });
    const self = await api.tokens.customer(hq.id);
    expect(
      (await api.request('GET', `/customers/${hq.id}/branches`, { token: self })).body.items,
    ).toHaveLength(3);
    const other = await api.tokens.reseller('branches-r2');
    expect(
      (await api.request('GET', `/customers/${hq.id}/branches`, { token: other })).status,
    ).toBe(404);
    expect(
      (await api.request('GET', `/customers/${unknownId}/branches`, { token: admin })).status,
    ).toBe(404);
  });
});

describe('patches that change nothing, or say nothing', () => {
  it('keeps the ETag when aliasAuthDefault is set to the value it has', async () => {
    const { id } = await createCustomer(api, admin);
    const answer = await patchPanel(api, admin, id, { aliasAuthDefault: 'system' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('etag')).toBe('"1"');
  });

  it('refuses an empty patch with 400', async () => {
    const { id } = await createCustomer(api, admin);
    await expectRefused(admin, id, {}, 400, 'validation_failed');
  });

  it('refuses setting the office of a hierarchy that stays disabled with 400', async () => {
    const hq = await createMainOffice(api, admin);
    const { id } = await createCustomer(api, admin);
    const answer = await expectRefused(
      admin,
      id,
      { officeHierarchy: { office: 'branch', mainOfficeId: hq.id } },
      400,
      'validation_failed',
    );
    expect(answer.body.errors).toEqual([
      { path: 'body.officeHierarchy.enabled', message: expect.any(String) },
    ]);
  });

  it('shows a branch its HQ’s invoicing on a patch that changes nothing', async () => {
    const hq = await createMainOffice(api, admin);
    await patchPanel(api, admin, hq.id, { officeHierarchy: { invoicing: 'consolidated' } });
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, hq.id);
    const answer = await patchPanel(api, admin, branch.id, {
      officeHierarchy: { office: 'branch' },
    });
    expect(answer.body.officeHierarchy.invoicing).toBe('consolidated');
  });
});
