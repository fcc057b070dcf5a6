import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeList } from '../../lib/http/routes.js';
import { createCustomer, createMainOffice, linkBranch, patchPanel } from './support/customers.js';
import {
  createBatch,
  freshNumbers,
  importInto,
  inventoryEntry,
  paidPricing,
} from './support/dids.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * Every route × every kind of caller (§2), through the local HTTP server: the status
 * each cell must answer. Callers: the admin, a reseller in scope (r1) and one out of it
 * (r2), the customer itself and another customer, the switch, no token and an expired
 * token. In-scope writes get fresh resources so every cell is judged on its own.
 */
const callers = [
  'admin',
  'resellerIn',
  'resellerOut',
  'customerSelf',
  'customerOther',
  'switch',
  'none',
  'expired',
] as const;
type Caller = (typeof callers)[number];

interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}
/** The status per caller; no token and an expired one are 401 on every non-public route. */
type Expected = Record<Exclude<Caller, 'none' | 'expired'>, number>;

let api: TestApi;
let tokens: Record<Caller, string | undefined>;
let self: string; // r1's customer, the customer token's own
let other: string; // r2's customer, the other customer token's own
let account: string;
let alias: string;
let batchId: string;
let numbers: string[];

beforeAll(async () => {
  api = await startTestApi();
  const admin = api.tokens.admin;
  const hq = await createMainOffice(api, admin, { name: 'Matrix HQ', resellerId: 'r1' });
  self = hq.id;
  other = (await createCustomer(api, admin, { name: 'Elsewhere', resellerId: 'r2' })).id;
  const branch = await createCustomer(api, admin, { name: 'Matrix site', resellerId: 'r1' });
  expect((await linkBranch(api, admin, branch.id, self)).status).toBe(200);
  [account, alias] = freshNumbers(2, '+4940') as [string, string];
  expect(
    (
      await api.request('POST', `/customers/${self}/accounts`, {
        token: admin,
        body: { number: account },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await api.request('POST', `/accounts/${encodeURIComponent(account)}/aliases`, {
        token: admin,
        body: { number: alias },
      })
    ).status,
  ).toBe(201);
  batchId = (await createBatch(api, { pricing: paidPricing() })).id;
  numbers = freshNumbers(40);
  await importInto(
    api,
    batchId,
    numbers.map((number) => inventoryEntry(number)),
  );
  expect(
    (await patchPanel(api, admin, self, { didAutoProvisioning: { enabled: true, batchId } }))
      .status,
  ).toBe(200);
  tokens = {
    admin,
    resellerIn: await api.tokens.reseller('r1'),
    resellerOut: await api.tokens.reseller('r2'),
    customerSelf: await api.tokens.customer(self),
    customerOther: await api.tokens.customer(other),
    switch: api.tokens.switch,
    none: undefined,
    expired: api.tokens.expired,
  };
});
afterAll(async () => api?.stop());

let spareNumbers = 0;
const spare = () => freshNumbers(1, `+4950${String(++spareNumbers).padStart(2, '0')}`)[0] as string;
/** A fresh customer of r1 (what a write that changes a customer works on). */
const freshCustomer = async () =>
  (
    await createCustomer(api, api.tokens.admin, {
      name: `Fresh ${++spareNumbers}`,
      resellerId: 'r1',
    })
  ).id;
const at = (number: string) => encodeURIComponent(number);
/** An extension of the HQ, made by the admin: what a hunt group rings. */
async function extension(): Promise<string> {
  const number = String(3000 + ++spareNumbers);
  const answer = await api.request('POST', `/customers/${self}/extensions`, {
    token: api.tokens.admin,
    body: { number, name: 'Member' },
  });
  expect(answer.status).toBe(201);
  return number;
}
let assigned = 0;

const all = (status: number): Expected => ({
  admin: status,
  resellerIn: status,
  resellerOut: status,
  customerSelf: status,
  customerOther: status,
  switch: status,
});
/** Customer-scoped reads: the customer and its reseller see it, others 404, the switch 403. */
const scopedRead: Expected = {
  admin: 200,
  resellerIn: 200,
  resellerOut: 404,
  customerSelf: 200,
  customerOther: 404,
  switch: 403,
};
/** Customer-scoped changes the customer may not make. */
const managerWrite = (status: number): Expected => ({
  admin: status,
  resellerIn: status,
  resellerOut: 404,
  customerSelf: 403,
  customerOther: 403,
  switch: 403,
});
const adminOnly = (status: number): Expected => ({
  admin: status,
  resellerIn: 403,
  resellerOut: 403,
  customerSelf: 403,
  customerOther: 403,
  switch: 403,
});
const switchFacing = (status: number): Expected => ({
  admin: status,
  resellerIn: 403,
  resellerOut: 403,
  customerSelf: 403,
  customerOther: 403,
  switch: status,
});

const matrix: Record<
  string,
  { request: (caller: Caller) => Promise<Request> | Request; expected: Expected; isPublic?: true }
> = {
  health: {
    request: () => ({ method: 'GET', path: '/health' }),
    expected: all(200),
    isPublic: true,
  },
  openapi: {
    request: () => ({ method: 'GET', path: '/openapi.json' }),
    expected: all(200),
    isPublic: true,
  },
  createCustomer: {
    request: () => ({
      method: 'POST',
      path: '/customers',
      body: { name: 'New', businessModel: 'universal', currency: 'EUR' },
    }),
    // A reseller creates its own customers, whichever reseller it is.
    expected: {
      admin: 201,
      resellerIn: 201,
      resellerOut: 201,
      customerSelf: 403,
      customerOther: 403,
      switch: 403,
    },
  },
  listCustomers: {
    request: () => ({ method: 'GET', path: '/customers' }),
    // Each sees its own list.
    expected: {
      admin: 200,
      resellerIn: 200,
      resellerOut: 200,
      customerSelf: 200,
      customerOther: 200,
      switch: 403,
    },
  },
  getCustomer: {
    request: () => ({ method: 'GET', path: `/customers/${self}` }),
    expected: scopedRead,
  },
  patchCustomer: {
    request: () => ({
      method: 'PATCH',
      path: `/customers/${self}`,
      body: { timezone: 'Europe/Berlin' },
    }),
    expected: managerWrite(200),
  },
  terminateCustomer: {
    request: async () => ({
      method: 'POST',
      path: `/customers/${await freshCustomer()}/terminate`,
    }),
    expected: managerWrite(200),
  },
  getAdditionalInfo: {
    request: () => ({ method: 'GET', path: `/customers/${self}/additional-info` }),
    expected: scopedRead,
  },
  patchAdditionalInfo: {
    request: () => ({
      method: 'PATCH',
      path: `/customers/${self}/additional-info`,
      body: { aliasAuthDefault: 'system' },
    }),
    expected: managerWrite(200),
  },
  listBranches: {
    request: () => ({ method: 'GET', path: `/customers/${self}/branches` }),
    expected: scopedRead,
  },
  createAccount: {
    request: () => ({
      method: 'POST',
      path: `/customers/${self}/accounts`,
      body: { number: spare() },
    }),
    expected: managerWrite(201),
  },
  listAccounts: {
    request: () => ({ method: 'GET', path: `/customers/${self}/accounts` }),
    expected: scopedRead,
  },
  createAlias: {
    request: () => ({
      method: 'POST',
      path: `/accounts/${at(account)}/aliases`,
      body: { number: spare() },
    }),
    // The customer may add aliases to its own accounts.
    expected: {
      admin: 201,
      resellerIn: 201,
      resellerOut: 404,
      customerSelf: 201,
      customerOther: 404,
      switch: 403,
    },
  },
  listAliases: {
    request: () => ({ method: 'GET', path: `/accounts/${at(account)}/aliases` }),
    expected: scopedRead,
  },
  getAlias: {
    request: () => ({ method: 'GET', path: `/aliases/${at(alias)}` }),
    expected: scopedRead,
  },
  patchAlias: {
    request: () => ({
      method: 'PATCH',
      path: `/aliases/${at(alias)}`,
      body: { authentication: 'system' },
    }),
    expected: managerWrite(200),
  },
  getSystemConfig: {
    request: () => ({ method: 'GET', path: '/system/config' }),
    expected: adminOnly(200),
  },
  patchSystemConfig: {
    request: () => ({
      method: 'PATCH',
      path: '/system/config',
      body: { aliasAuthentication: 'enabled' },
    }),
    expected: adminOnly(200),
  },
  sipAuthorize: {
    request: () => ({ method: 'POST', path: '/sip/authorize', body: { username: alias } }),
    expected: switchFacing(200),
  },
  routeNumber: {
    request: () => ({ method: 'GET', path: `/routing/${at(alias)}` }),
    expected: switchFacing(200),
  },
  createExtension: {
    request: () => ({
      method: 'POST',
      path: `/customers/${self}/extensions`,
      body: { number: String(1000 + ++spareNumbers), name: 'Desk' },
    }),
    expected: managerWrite(201),
  },
  listExtensions: {
    request: () => ({ method: 'GET', path: `/customers/${self}/extensions` }),
    expected: scopedRead,
  },
  deleteExtension: {
    request: async (caller) => {
      const number = String(5000 + ++spareNumbers);
      if (caller === 'admin' || caller === 'resellerIn') {
        await api.request('POST', `/customers/${self}/extensions`, {
          token: api.tokens.admin,
          body: { number, name: 'Gone' },
        });
      }
      return { method: 'DELETE', path: `/customers/${self}/extensions/${number}` };
    },
    expected: managerWrite(204),
  },
  createHuntGroup: {
    request: async () => ({
      method: 'POST',
      path: `/customers/${self}/hunt-groups`,
      body: {
        number: String(7000 + ++spareNumbers),
        name: 'Sales',
        strategy: 'sequential',
        members: [await extension()],
      },
    }),
    expected: managerWrite(201),
  },
  listHuntGroups: {
    request: () => ({ method: 'GET', path: `/customers/${self}/hunt-groups` }),
    expected: scopedRead,
  },
  deleteHuntGroup: {
    request: async (caller) => {
      const number = String(8000 + ++spareNumbers);
      if (caller === 'admin' || caller === 'resellerIn') {
        await api.request('POST', `/customers/${self}/hunt-groups`, {
          token: api.tokens.admin,
          body: { number, name: 'Gone', strategy: 'sequential', members: [await extension()] },
        });
      }
      return { method: 'DELETE', path: `/customers/${self}/hunt-groups/${number}` };
    },
    expected: managerWrite(204),
  },
  createDidBatch: {
    request: () => ({
      method: 'POST',
      path: '/did-batches',
      body: { name: `Matrix ${++spareNumbers}`, source: 'inventory', pricing: { free: true } },
    }),
    expected: adminOnly(201),
  },
  listDidBatches: {
    request: () => ({ method: 'GET', path: '/did-batches' }),
    expected: adminOnly(200),
  },
  getDidBatch: {
    request: () => ({ method: 'GET', path: `/did-batches/${batchId}` }),
    expected: adminOnly(200),
  },
  importDidNumbers: {
    request: () => ({
      method: 'POST',
      path: `/did-batches/${batchId}/numbers`,
      body: { numbers: [inventoryEntry(spare())] },
    }),
    expected: adminOnly(200),
  },
  listDidOffers: {
    request: () => ({ method: 'GET', path: `/customers/${self}/did-offers?kind=local&country=DE` }),
    expected: scopedRead,
  },
  assignDids: {
    request: () => ({
      method: 'POST',
      path: `/customers/${self}/dids`,
      body: { numbers: [numbers[assigned++]] },
    }),
    // The customer may pick its own numbers.
    expected: {
      admin: 201,
      resellerIn: 201,
      resellerOut: 404,
      customerSelf: 201,
      customerOther: 404,
      switch: 403,
    },
  },
  listCustomerDids: {
    request: () => ({ method: 'GET', path: `/customers/${self}/dids` }),
    expected: scopedRead,
  },
  releaseDid: {
    request: async (caller) => {
      const number = numbers[20 + assigned++] as string;
      if (['admin', 'resellerIn', 'customerSelf'].includes(caller)) {
        await api.request('POST', `/customers/${self}/dids`, {
          token: api.tokens.admin,
          body: { numbers: [number] },
        });
      }
      return { method: 'DELETE', path: `/customers/${self}/dids/${at(number)}` };
    },
    expected: {
      admin: 204,
      resellerIn: 204,
      resellerOut: 404,
      customerSelf: 204,
      customerOther: 404,
      switch: 403,
    },
  },
  recordCharge: {
    request: () => ({
      method: 'POST',
      path: `/customers/${self}/charges`,
      body: { amount: '0.01', currency: 'EUR', kind: 'usage', description: 'Matrix call' },
    }),
    expected: switchFacing(201),
  },
  listInvoices: {
    request: () => ({ method: 'GET', path: `/customers/${self}/invoices` }),
    expected: scopedRead,
  },
  getInvoice: {
    request: () => ({ method: 'GET', path: `/customers/${self}/invoices/2026-11` }),
    expected: scopedRead,
  },
  closePeriod: {
    request: () => ({ method: 'POST', path: '/billing/close-period', body: { period: '2026-01' } }),
    // The first call starts it (202); the matrix's later admin calls would answer 200.
    expected: adminOnly(202),
  },
  getPeriodClose: {
    request: () => ({ method: 'GET', path: '/billing/close-period/2026-01' }),
    expected: adminOnly(200),
  },
};

describe('the authorization matrix (§2)', () => {
  it('names every route of the routes table', () => {
    expect(Object.keys(matrix).sort()).toEqual(routeList.map((route) => route.operationId).sort());
  });

  it.each(Object.keys(matrix))('%s answers each caller as §2 says', async (operationId) => {
    const row = matrix[operationId] as (typeof matrix)[string];
    const answers: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const caller of callers) {
      const request = await row.request(caller);
      const answer = await api.request(request.method, request.path, {
        token: tokens[caller],
        body: request.body,
      });
      answers[caller] = answer.status;
      expected[caller] =
        caller === 'none' || caller === 'expired'
          ? row.isPublic
            ? 200
            : 401
          : row.expected[caller];
      if (answer.status >= 400) {
        expect(answer.headers.get('content-type'), `${operationId} ${caller}`).toContain(
          'application/problem+json',
        );
      }
    }
    expect(answers).toEqual(expected);
  });
});
