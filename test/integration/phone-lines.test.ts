import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, createMainOffice, linkBranch, patchPanel } from './support/customers.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;
let nextNumber = 4930_1000_0000;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(() => api?.stop());

const freshNumber = () => {
  nextNumber += 1;
  return `+${nextNumber}`;
};

async function account(customerId: string, token = admin) {
  const number = freshNumber();
  const answer = await api.request('POST', `/customers/${customerId}/accounts`, {
    token,
    body: { number },
  });
  expect(answer.status).toBe(201);
  return number;
}

async function alias(accountNumber: string, authentication?: string, token = admin) {
  const number = freshNumber();
  const answer = await api.request(
    'POST',
    `/accounts/${encodeURIComponent(accountNumber)}/aliases`,
    {
      token,
      body: authentication ? { number, authentication } : { number },
    },
  );
  expect(answer.status).toBe(201);
  return answer.body as { number: string; authentication: string };
}

const authorize = (username: string) =>
  api.request('POST', '/sip/authorize', { token: api.tokens.switch, body: { username } });
const routing = (number: string) =>
  api.request('GET', `/routing/${encodeURIComponent(number)}`, { token: api.tokens.switch });

describe('accounts and aliases', () => {
  it('creates and lists a customer’s accounts and an account’s aliases', async () => {
    const { id } = await createCustomer(api, admin);
    const first = await account(id);
    const second = await account(id);
    const listed = await api.request('GET', `/customers/${id}/accounts`, { token: admin });
    expect(listed.body.items.map((item: { number: string }) => item.number)).toEqual([
      first,
      second,
    ]);
    const one = await alias(first, 'enabled');
    const aliases = await api.request('GET', `/accounts/${encodeURIComponent(first)}/aliases`, {
      token: admin,
    });
    expect(aliases.body).toEqual({
      items: [
        {
          number: one.number,
          accountNumber: first,
          customerId: id,
          authentication: 'enabled',
          effective: { canRegister: true, source: 'alias' },
        },
      ],
      nextCursor: null,
    });
  });

  it('keeps a number an account or an alias, never both, across all customers', async () => {
    const [a, b] = [await createCustomer(api, admin), await createCustomer(api, admin)];
    const taken = await account(a.id);
    const theirAlias = await alias(taken);
    for (const number of [taken, theirAlias.number]) {
      const asAccount = await api.request('POST', `/customers/${b.id}/accounts`, {
        token: admin,
        body: { number },
      });
      expect(asAccount).toMatchObject({ status: 409, body: { code: 'number_taken' } });
      const asAlias = await api.request('POST', `/accounts/${encodeURIComponent(taken)}/aliases`, {
        token: admin,
        body: { number },
      });
      expect(asAlias.body.code).toBe('number_taken');
    }
  });

  it('gives exactly one of many racing requests a contested number', async () => {
    const customers = await Promise.all(
      Array.from({ length: 4 }, () => createCustomer(api, admin)),
    );
    const accounts = await Promise.all(customers.map((customer) => account(customer.id)));
    const contested = freshNumber();
    const answers = await Promise.all([
      ...customers.map((customer) =>
        api.request('POST', `/customers/${customer.id}/accounts`, {
          token: admin,
          body: { number: contested },
        }),
      ),
      ...accounts.map((number) =>
        api.request('POST', `/accounts/${encodeURIComponent(number)}/aliases`, {
          token: admin,
          body: { number: contested },
        }),
      ),
    ]);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 201)) {
      expect(answer).toMatchObject({ status: 409, body: { code: 'number_taken' } });
    }
  });

  it('gives a new alias the customer’s default at that moment, and never rewrites it later', async () => {
    const { id } = await createCustomer(api, admin);
    const line = await account(id);
    await patchPanel(api, admin, id, { aliasAuthDefault: 'disabled' });
    const early = await alias(line);
    expect(early.authentication).toBe('disabled');
    await patchPanel(api, admin, id, { aliasAuthDefault: 'enabled' });
    const late = await alias(line);
    expect(late.authentication).toBe('enabled');
    const reread = await api.request('GET', `/aliases/${encodeURIComponent(early.number)}`, {
      token: admin,
    });
    expect(reread.body).toMatchObject({
      authentication: 'disabled',
      effective: { canRegister: false, source: 'alias' },
    });
  });

  it('refuses malformed numbers, unknown accounts, and a terminated customer’s lines', async () => {
    const { id } = await createCustomer(api, admin);
    for (const number of [
      '4930123456',
      '+0930123456',
      '+1234567',
      '+1234567890123456',
      '+49 30 1234',
    ]) {
      const answer = await api.request('POST', `/customers/${id}/accounts`, {
        token: admin,
        body: { number },
      });
      expect(answer.status).toBe(400);
    }
    const unknown = await api.request(
      'POST',
      `/accounts/${encodeURIComponent(freshNumber())}/aliases`,
      {
        token: admin,
        body: { number: freshNumber() },
      },
    );
    expect(unknown.status).toBe(404);
    const line = await account(id);
    const alreadyAlias = await alias(line);
    await api.request('POST', `/customers/${id}/terminate`, { token: admin });
    const more = await api.request('POST', `/customers/${id}/accounts`, {
      token: admin,
      body: { number: freshNumber() },
    });
    expect(more.body.code).toBe('customer_terminated');
    const moreAliases = await api.request('POST', `/accounts/${encodeURIComponent(line)}/aliases`, {
      token: admin,
      body: { number: freshNumber() },
    });
    expect(moreAliases.body.code).toBe('customer_terminated');
    await api.runtime.streamsIdle();
    const patch = await api.request(
      'PATCH',
      `/aliases/${encodeURIComponent(alreadyAlias.number)}`,
      {
        token: admin,
        body: { authentication: 'enabled' },
      },
    );
    expect(patch.body.code).toBe('customer_terminated');
  });

  it('scopes lines to their customer: roles and tenants', async () => {
    const reseller = await api.tokens.reseller('lines-r1');
    const { id } = await createCustomer(api, reseller);
    const line = await account(id, reseller);
    const self = await api.tokens.customer(id);
    expect((await alias(line, undefined, self)).authentication).toBe('system');
    const ownAccount = await api.request('POST', `/customers/${id}/accounts`, {
      token: self,
      body: { number: freshNumber() },
    });
    expect(ownAccount.status).toBe(403);
    const other = await api.tokens.reseller('lines-r2');
    expect(
      (await api.request('GET', `/accounts/${encodeURIComponent(line)}/aliases`, { token: other }))
        .status,
    ).toBe(404);
    expect((await api.request('GET', `/customers/${id}/accounts`, { token: other })).status).toBe(
      404,
    );
    expect(
      (await api.request('POST', '/sip/authorize', { token: self, body: { username: line } }))
        .status,
    ).toBe(403);
    expect(
      (await api.request('GET', `/customers/${id}/accounts`, { token: api.tokens.switch })).status,
    ).toBe(403);
  });
});

describe('the switch-facing calls', () => {
  it('authorizes accounts and aliases, always charging the main account', async () => {
    const { id } = await createCustomer(api, admin);
    const line = await account(id);
    const open = await alias(line, 'enabled');
    const closed = await alias(line, 'disabled');
    expect((await authorize(line)).body).toEqual({
      allowed: true,
      aliasOf: null,
      chargedAccountNumber: line,
    });
    expect((await authorize(open.number)).body).toEqual({
      allowed: true,
      aliasOf: line,
      chargedAccountNumber: line,
    });
    expect((await authorize(closed.number)).body).toEqual({
      allowed: false,
      aliasOf: line,
      chargedAccountNumber: line,
      reason: 'alias_registration_disabled',
    });
    for (const username of [freshNumber(), 'alice', '']) {
      const answer = await authorize(username);
      if (username === '') expect(answer.status).toBe(400);
      else
        expect(answer.body).toEqual({
          allowed: false,
          aliasOf: null,
          chargedAccountNumber: null,
          reason: 'unknown_username',
        });
    }
  });

  it('routes a disabled alias to its account and an alias that may register to itself', async () => {
    const { id } = await createCustomer(api, admin);
    const line = await account(id);
    const open = await alias(line, 'enabled');
    const closed = await alias(line, 'disabled');
    expect((await routing(line)).body).toEqual({
      number: line,
      ringAccountNumber: line,
      viaAlias: false,
    });
    expect((await routing(open.number)).body).toEqual({
      number: open.number,
      ringAccountNumber: open.number,
      viaAlias: true,
    });
    expect((await routing(closed.number)).body).toEqual({
      number: closed.number,
      ringAccountNumber: line,
      viaAlias: true,
    });
    expect((await routing(freshNumber())).status).toBe(404);
  });

  it('resolves system aliases against the system configuration, a change showing within the cache bound', async () => {
    const { id } = await createCustomer(api, admin);
    const line = await account(id);
    const followsSystem = await alias(line, 'system');
    expect((await authorize(followsSystem.number)).body.allowed).toBe(true);
    const changed = await api.request('PATCH', '/system/config', {
      token: admin,
      body: { aliasAuthentication: 'disabled' },
    });
    expect(changed).toMatchObject({ status: 200, body: { aliasAuthentication: 'disabled' } });
    const read = await api.request('GET', `/aliases/${encodeURIComponent(followsSystem.number)}`, {
      token: admin,
    });
    expect(read.body.effective).toEqual({ canRegister: false, source: 'system' });
    const started = Date.now();
    let answer = await authorize(followsSystem.number);
    while (answer.body.allowed && Date.now() - started < 12_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await authorize(followsSystem.number);
    }
    expect(answer.body).toMatchObject({ allowed: false, reason: 'alias_registration_disabled' });
    expect(Date.now() - started).toBeLessThanOrEqual(10_000);
    expect((await routing(followsSystem.number)).body.ringAccountNumber).toBe(line);
    await api.request('PATCH', '/system/config', {
      token: admin,
      body: { aliasAuthentication: 'enabled' },
    });
    expect((await api.request('GET', '/system/config', { token: admin })).body).toEqual({
      aliasAuthentication: 'enabled',
    });
    expect(
      (await api.request('GET', '/system/config', { token: await api.tokens.reseller('r') }))
        .status,
    ).toBe(403);
  });

  it('stops the lines of a terminated customer registering, a branch terminated by its HQ too', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    await linkBranch(api, admin, branch.id, hq.id);
    const hqLine = await account(hq.id);
    const branchLine = await account(branch.id);
    const branchAlias = await alias(branchLine, 'enabled');
    await api.request('POST', `/customers/${hq.id}/terminate`, { token: admin });
    await api.runtime.streamsIdle();
    for (const username of [hqLine, branchLine]) {
      expect((await authorize(username)).body).toEqual({
        allowed: false,
        aliasOf: null,
        chargedAccountNumber: username,
        reason: 'customer_terminated',
      });
    }
    expect((await authorize(branchAlias.number)).body).toMatchObject({
      allowed: false,
      reason: 'customer_terminated',
      aliasOf: branchLine,
    });
    expect((await routing(branchLine)).body.code).toBe('customer_terminated');
  });
});
