import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import { customerKey } from '../../lib/data/keys.js';
import {
  createCustomer,
  createMainOffice,
  linkBranch,
  patchPanel,
  readPanel,
} from './support/customers.js';
import { hierarchyViolations } from './support/hierarchy-invariants.js';
import { beforeFirstSend } from './support/interleave.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(() => api?.stop());

const statusCodes = (answers: readonly { status: number; body: any }[]) =>
  answers.map((answer) => `${answer.status} ${answer.body?.code ?? ''}`.trim());

describe('the hierarchy’s invariants under concurrent requests', () => {
  it('many branches linking while their HQ is demoted leave no branch under a non-HQ', async () => {
    const hq = await createMainOffice(api, admin);
    const candidates = await Promise.all(
      Array.from({ length: 12 }, () => createCustomer(api, admin)),
    );
    const answers = await Promise.all([
      ...candidates.map((candidate) => linkBranch(api, admin, candidate.id, hq.id)),
      patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } }),
      patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } }),
    ]);
    for (const outcome of statusCodes(answers)) {
      expect(['200', '422 main_office_not_main', '409 office_has_branches']).toContain(outcome);
    }
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
    const { panel } = await readPanel(api, admin, hq.id);
    const linked = answers
      .slice(0, candidates.length)
      .filter((answer) => answer.status === 200).length;
    expect(panel.officeHierarchy.branchCount).toBe(panel.officeHierarchy.enabled ? linked : 0);
  });

  it('two HQs claiming one branch at once leave it under exactly one of them', async () => {
    for (let round = 0; round < 5; round += 1) {
      const [first, second, branch] = await Promise.all([
        createMainOffice(api, admin),
        createMainOffice(api, admin),
        createCustomer(api, admin),
      ]);
      const answers = await Promise.all([
        linkBranch(api, admin, branch.id, first.id),
        linkBranch(api, admin, branch.id, second.id),
      ]);
      expect(statusCodes(answers)).toEqual(['200', '200']);
      const { panel } = await readPanel(api, admin, branch.id);
      expect([first.id, second.id]).toContain(panel.officeHierarchy.mainOfficeId);
      const counts = await Promise.all(
        [first, second].map(
          async (hq) => (await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount,
        ),
      );
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(1);
    }
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
  });

  it('an HQ demoted twice at once ends demoted, with no error', async () => {
    const hq = await createMainOffice(api, admin);
    const answers = await Promise.all([
      patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } }),
      patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } }),
    ]);
    expect(statusCodes(answers)).toEqual(['200', '200']);
    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.enabled).toBe(false);
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
  });

  it('random link, unlink, demote and promote requests run concurrently never break an invariant (property)', async () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('link' as const), customer: fc.nat(5), hq: fc.nat(2) }),
      fc.record({ kind: fc.constant('unlink' as const), customer: fc.nat(5) }),
      fc.record({ kind: fc.constant('demote' as const), hq: fc.nat(2) }),
      fc.record({ kind: fc.constant('promote' as const), customer: fc.nat(5) }),
      fc.record({ kind: fc.constant('consolidate' as const), hq: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 4, maxLength: 14 }), async (operations) => {
        const reseller = await api.tokens.reseller(`race-${Math.random().toString(36).slice(2)}`);
        const hqs = await Promise.all([0, 1, 2].map(() => createMainOffice(api, reseller)));
        const customers = await Promise.all(
          [0, 1, 2, 3, 4, 5].map((index) =>
            createCustomer(api, reseller, { currency: index % 2 ? 'USD' : 'EUR' }),
          ),
        );
        const customerId = (index: number) => customers[index]?.id ?? '';
        const hqId = (index: number) => hqs[index]?.id ?? '';
        const send = (id: string, body: unknown) => patchPanel(api, reseller, id, body);
        const requests = {
          link: (op: { customer: number; hq: number }) =>
            linkBranch(api, reseller, customerId(op.customer), hqId(op.hq)),
          unlink: (op: { customer: number }) =>
            send(customerId(op.customer), { officeHierarchy: { enabled: false } }),
          demote: (op: { hq: number }) =>
            send(hqId(op.hq), { officeHierarchy: { enabled: false } }),
          promote: (op: { customer: number }) =>
            send(customerId(op.customer), { officeHierarchy: { enabled: true, office: 'main' } }),
          consolidate: (op: { hq: number }) =>
            send(hqId(op.hq), { officeHierarchy: { invoicing: 'consolidated' } }),
        };
        const answers = await Promise.all(
          operations.map((op) =>
            (requests[op.kind] as (op: unknown) => ReturnType<typeof send>)(op),
          ),
        );
        for (const answer of answers) expect(answer.status).toBeLessThan(500);
        expect(await hierarchyViolations(api.runtime)).toEqual([]);
      }),
      { numRuns: 12 },
    );
  });
});

describe('a main office that changes between a request’s read and its write', () => {
  /** The panel's transaction that counts a branch in or out at this main office. */
  const countsBranchAt = (mainOfficeId: string) => (command: string, input: Record<string, any>) =>
    command === 'TransactWriteItemsCommand' &&
    (input.TransactItems ?? []).some(
      (item: Record<string, any>) =>
        (item.Update?.Key?.pk?.S ?? item.Update?.Key?.pk) === customerKey(mainOfficeId).pk &&
        (item.Update?.Key?.sk?.S ?? item.Update?.Key?.sk) === customerKey(mainOfficeId).sk,
    );

  /** Sends `request` while `change` lands just before its transaction reaches the engine. */
  async function withChangeBeforeWrite<T>(
    mainOfficeId: string,
    change: () => Promise<{ status: number }>,
    request: () => Promise<T>,
  ): Promise<T> {
    let changed: { status: number } | undefined;
    const remove = beforeFirstSend(sharedDb().client, countsBranchAt(mainOfficeId), async () => {
      changed = await change();
    });
    try {
      return await request();
    } finally {
      remove();
      expect(changed?.status, 'the change ran between the read and the write').toBe(200);
    }
  }

  const terminate = (id: string) =>
    api.request('POST', `/customers/${id}/terminate`, { token: admin });

  it('refuses a link to an HQ terminated after it was read, leaving no branch under it', async () => {
    const hq = await createMainOffice(api, admin);
    const candidate = await createCustomer(api, admin);

    const answer = await withChangeBeforeWrite(
      hq.id,
      () => terminate(hq.id),
      () => linkBranch(api, admin, candidate.id, hq.id),
    );

    expect(answer).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    const { panel } = await readPanel(api, admin, candidate.id);
    expect(panel.officeHierarchy).toMatchObject({ enabled: false, mainOfficeId: null });
    expect((await readPanel(api, admin, hq.id)).panel.officeHierarchy.branchCount).toBe(0);
    await api.runtime.streamsIdle();
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
  });

  it('refuses a link to an HQ demoted after it was read with 422 main_office_not_main', async () => {
    const hq = await createMainOffice(api, admin);
    const candidate = await createCustomer(api, admin);

    const answer = await withChangeBeforeWrite(
      hq.id,
      () => patchPanel(api, admin, hq.id, { officeHierarchy: { enabled: false } }),
      () => linkBranch(api, admin, candidate.id, hq.id),
    );

    expect(answer).toMatchObject({ status: 422, body: { code: 'main_office_not_main' } });
    expect((await readPanel(api, admin, candidate.id)).panel.officeHierarchy.enabled).toBe(false);
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
  });

  it('keeps a branch from leaving an HQ terminated after it was read, so the cascade reaches it', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    expect((await linkBranch(api, admin, branch.id, hq.id)).status).toBe(200);

    const answer = await withChangeBeforeWrite(
      hq.id,
      () => terminate(hq.id),
      () => patchPanel(api, admin, branch.id, { officeHierarchy: { enabled: false } }),
    );

    expect(answer).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    await api.runtime.streamsIdle();
    const after = await api.request('GET', `/customers/${branch.id}`, { token: admin });
    expect(after.body).toMatchObject({
      status: 'terminated',
      terminatedBy: { reason: 'main_office_terminated', mainOfficeId: hq.id },
    });
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
  });
});
