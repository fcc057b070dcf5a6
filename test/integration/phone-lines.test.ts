import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import { phoneLineKey, systemConfigKey } from '../../lib/data/keys.js';
import { countRoundTrips } from '../bench/support.js';
import { createCustomer, createMainOffice, linkBranch, patchPanel } from './support/customers.js';
import { type ApiAnswer, startTestApi, type TestApi } from './support/local-api.js';

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
    const first = freshNumber();
    const created = await api.request('POST', `/customers/${id}/accounts`, {
      token: admin,
      body: { number: first },
    });
    expect(created).toMatchObject({ status: 201, body: { number: first, customerId: id } });
    // An account has no URL of its own: Location names the list it is in.
    expect(created.headers.get('location')).toBe(`/customers/${id}/accounts`);
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

  it('gives exactly one of many racing requests a contested number, as account or alias across customers', async () => {
    const customers = await Promise.all(
      Array.from({ length: 4 }, () => createCustomer(api, admin)),
    );
    const accounts = await Promise.all(customers.map((customer) => account(customer.id)));
    const contested = freshNumber();
    const attempts = [
      ...customers.map((customer) => ({ customerId: customer.id, aliasOf: null })),
      ...accounts.map((number, at) => ({ customerId: customers[at]?.id, aliasOf: number })),
    ];
    const answers = await Promise.all(
      attempts.map(({ customerId, aliasOf }) =>
        aliasOf
          ? api.request('POST', `/accounts/${encodeURIComponent(aliasOf)}/aliases`, {
              token: admin,
              body: { number: contested },
            })
          : api.request('POST', `/customers/${customerId}/accounts`, {
              token: admin,
              body: { number: contested },
            }),
      ),
    );
    const winners = attempts.filter((_, at) => answers[at]?.status === 201);
    expect(winners).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 201)) {
      expect(answer).toMatchObject({ status: 409, body: { code: 'number_taken' } });
    }
    // The number is the winner's line, and only the winner's.
    const [winner] = winners;
    expect((await authorize(contested)).body).toMatchObject({
      allowed: true,
      aliasOf: winner?.aliasOf,
    });
    for (const customer of customers) {
      const listed = await api.request('GET', `/customers/${customer.id}/accounts`, {
        token: admin,
      });
      const ownsIt = winner?.aliasOf === null && winner.customerId === customer.id;
      expect(listed.body.items.some((item: { number: string }) => item.number === contested)).toBe(
        ownsIt,
      );
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

describe('round trips, and the reseller a line copies', () => {
  /** One request, with the DynamoDB requests its handler sent and how many were sequential. */
  async function measured(act: () => Promise<ApiAnswer>) {
    // The client the handlers use exists once the runtime runs.
    const counter = countRoundTrips(sharedDb().client);
    await api.runtime.streamsIdle();
    counter.reset();
    const answer = await act();
    return { answer, sequential: counter.sequential, commands: counter.commands };
  }

  const createAccountAs = (token: string, customerId: string, number: string) =>
    measured(() =>
      api.request('POST', `/customers/${customerId}/accounts`, { token, body: { number } }),
    );

  it('creates an account in one round trip, two when an admin creates one for a reseller’s customer, the line copying the customer’s reseller', async () => {
    const reseller = await api.tokens.reseller('trips-r1');
    const otherReseller = await api.tokens.reseller('trips-r2');
    const unowned = await createCustomer(api, admin);
    const owned = await createCustomer(api, reseller);

    const byAdmin = await createAccountAs(admin, unowned.id, freshNumber());
    expect(byAdmin).toMatchObject({
      answer: { status: 201 },
      sequential: 1,
      commands: ['TransactWriteItems'],
    });
    const byReseller = await createAccountAs(reseller, owned.id, freshNumber());
    expect(byReseller).toMatchObject({
      answer: { status: 201 },
      sequential: 1,
      commands: ['TransactWriteItems'],
    });
    const adminsLine = freshNumber();
    const byAdminForReseller = await createAccountAs(admin, owned.id, adminsLine);
    expect(byAdminForReseller).toMatchObject({
      answer: { status: 201 },
      sequential: 2,
      commands: ['TransactWriteItems', 'TransactWriteItems'],
    });

    // Reads of the line alone check scope with the reseller it copied.
    const aliasesOf = (number: string, token: string) =>
      api.request('GET', `/accounts/${encodeURIComponent(number)}/aliases`, { token });
    expect((await aliasesOf(adminsLine, reseller)).status).toBe(200);
    expect((await alias(adminsLine, 'enabled', reseller)).authentication).toBe('enabled');
    expect((await aliasesOf(adminsLine, otherReseller)).status).toBe(404);
    const unownedLine = byAdmin.answer.body.number;
    expect((await aliasesOf(unownedLine, reseller)).status).toBe(404);
    expect((await aliasesOf(unownedLine, admin)).status).toBe(200);
  });

  it('refuses in the one transaction: an absent or another reseller’s customer 404, a terminated one 409', async () => {
    const owned = await createCustomer(api, await api.tokens.reseller('trips-r3'));
    const intruder = await api.tokens.reseller('trips-r4');
    const refused = await createAccountAs(intruder, owned.id, freshNumber());
    expect(refused).toMatchObject({ answer: { status: 404 }, sequential: 1 });
    const absent = await createAccountAs(admin, '01JDQ7ZK3M8V4T2W6X9Y0ABSNT', freshNumber());
    expect(absent).toMatchObject({ answer: { status: 404 }, sequential: 1 });
    await api.request('POST', `/customers/${owned.id}/terminate`, { token: admin });
    const late = await createAccountAs(admin, owned.id, freshNumber());
    expect(late.answer).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
  });

  it('creates an alias in three sequential round trips', async () => {
    const { id } = await createCustomer(api, admin);
    const line = await account(id);
    const created = await measured(() =>
      api.request('POST', `/accounts/${encodeURIComponent(line)}/aliases`, {
        token: admin,
        body: { number: freshNumber() },
      }),
    );
    expect(created).toMatchObject({
      answer: { status: 201 },
      sequential: 3,
      commands: ['GetItem', 'GetItem', 'GetItem', 'TransactWriteItems'],
    });
  });
});

describe('versions: ETag and If-Match', () => {
  const aliasPath = (number: string) => `/aliases/${encodeURIComponent(number)}`;
  const patchAliasWith = (number: string, authentication: string, ifMatch?: string) =>
    api.request('PATCH', aliasPath(number), {
      token: admin,
      body: { authentication },
      headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
    });
  const patchConfigWith = (aliasAuthentication: string, ifMatch?: string) =>
    api.request('PATCH', '/system/config', {
      token: admin,
      body: { aliasAuthentication },
      headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
    });

  /** Sends one command to the table directly, past the service. */
  async function rawSend(command: (tableName: string) => UpdateCommand | DeleteCommand) {
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }),
    );
    await db.send(command(api.runtime.tableName));
    db.destroy();
  }
  /** Writes the table directly, as a deployment of before versions left it. */
  const rawUpdate = (input: Omit<UpdateCommandInput, 'TableName'>) =>
    rawSend((TableName) => new UpdateCommand({ TableName, ...input }));
  /** Deletes an item directly, as before it was first written. */
  const rawDelete = (Key: Record<string, string>) =>
    rawSend((TableName) => new DeleteCommand({ TableName, Key }));

  it('gives an alias an ETag that each PATCH moves on, and refuses a stale If-Match with 412, changing nothing', async () => {
    const { id } = await createCustomer(api, admin);
    const number = (await alias(await account(id), 'enabled')).number;
    const read = await api.request('GET', aliasPath(number), { token: admin });
    expect(read.headers.get('etag')).toBe('"1"');

    const stale = await patchAliasWith(number, 'disabled', '"7"');
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    expect((await api.request('GET', aliasPath(number), { token: admin })).body).toMatchObject({
      authentication: 'enabled',
    });

    const changed = await patchAliasWith(number, 'disabled', '"1"');
    expect(changed).toMatchObject({ status: 200, body: { authentication: 'disabled' } });
    expect(changed.headers.get('etag')).toBe('"2"');
    expect((await patchAliasWith(number, 'system', '*')).headers.get('etag')).toBe('"3"');
    expect((await patchAliasWith(number, 'enabled', '"1", W/"3"')).headers.get('etag')).toBe('"4"');
    expect((await patchAliasWith(number, 'disabled')).headers.get('etag')).toBe('"5"');
    const reread = await api.request('GET', aliasPath(number), { token: admin });
    expect(reread.headers.get('etag')).toBe('"5"');
    expect(reread.body.authentication).toBe('disabled');
  });

  it('keeps an alias’s ETag when a PATCH sets the policy it has, a stale If-Match still 412', async () => {
    const { id } = await createCustomer(api, admin);
    const number = (await alias(await account(id), 'enabled')).number;
    expect((await patchAliasWith(number, 'disabled', '"1"')).headers.get('etag')).toBe('"2"');

    for (const ifMatch of ['"2"', '*', undefined]) {
      const same = await patchAliasWith(number, 'disabled', ifMatch);
      expect(same).toMatchObject({ status: 200, body: { authentication: 'disabled' } });
      expect(same.headers.get('etag')).toBe('"2"');
    }
    const stale = await patchAliasWith(number, 'disabled', '"1"');
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    expect(
      (await api.request('GET', aliasPath(number), { token: admin })).headers.get('etag'),
    ).toBe('"2"');

    // The ETag the unchanging PATCHes answered still names the alias.
    const changed = await patchAliasWith(number, 'enabled', '"2"');
    expect(changed).toMatchObject({ status: 200, body: { authentication: 'enabled' } });
    expect(changed.headers.get('etag')).toBe('"3"');
  });

  it('lets exactly one of racing PATCHes with the same If-Match write; the others are 412', async () => {
    const { id } = await createCustomer(api, admin);
    const number = (await alias(await account(id), 'enabled')).number;
    // None sets the policy it has, which would answer 200 without writing.
    const policies = ['disabled', 'system', 'disabled', 'system', 'disabled'];
    const answers = await Promise.all(
      policies.map((policy) => patchAliasWith(number, policy, '"1"')),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 200)) {
      expect(answer).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    }
    const winner = answers.find((answer) => answer.status === 200);
    const read = await api.request('GET', aliasPath(number), { token: admin });
    expect(read.headers.get('etag')).toBe('"2"');
    expect(read.body.authentication).toBe(winner?.body.authentication);
  });

  it('counts an alias written before versions as version 1', async () => {
    const { id } = await createCustomer(api, admin);
    const number = (await alias(await account(id), 'enabled')).number;
    await rawUpdate({ Key: phoneLineKey(number), UpdateExpression: 'REMOVE version' });
    expect(
      (await api.request('GET', aliasPath(number), { token: admin })).headers.get('etag'),
    ).toBe('"1"');
    expect((await patchAliasWith(number, 'disabled', '"2"')).status).toBe(412);
    const changed = await patchAliasWith(number, 'disabled', '"1"');
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"2"');
  });

  /** The system configuration as it is: its value, the other value, and its version. */
  async function currentConfig() {
    const read = await api.request('GET', '/system/config', { token: admin });
    const value: string = read.body.aliasAuthentication;
    return {
      value,
      other: value === 'enabled' ? 'disabled' : 'enabled',
      version: Number(JSON.parse(read.headers.get('etag') ?? '""')),
    };
  }
  const etag = (version: number) => `"${version}"`;

  it('gives the system configuration an ETag that each PATCH moves on, refusing a stale If-Match with 412', async () => {
    const { value, other, version } = await currentConfig();
    expect(version).toBeGreaterThanOrEqual(1);

    const stale = await patchConfigWith(other, etag(version + 5));
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    expect((await api.request('GET', '/system/config', { token: admin })).body).toEqual({
      aliasAuthentication: value,
    });

    // All change the value, so none of them writes nothing and answers 200.
    const racing = await Promise.all(
      Array.from({ length: 4 }, () => patchConfigWith(other, etag(version))),
    );
    expect(racing.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of racing.filter((answer) => answer.status !== 200)) {
      expect(answer).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    }
    const winner = racing.find((answer) => answer.status === 200);
    expect(winner?.headers.get('etag')).toBe(etag(version + 1));
    const reread = await api.request('GET', '/system/config', { token: admin });
    expect(reread.headers.get('etag')).toBe(etag(version + 1));
    expect(reread.body).toEqual({ aliasAuthentication: other });

    expect((await patchConfigWith(value, '*')).headers.get('etag')).toBe(etag(version + 2));
    const listed = await patchConfigWith(other, `"1", ${etag(version + 2)}`);
    expect(listed).toMatchObject({ status: 200, body: { aliasAuthentication: other } });
    expect(listed.headers.get('etag')).toBe(etag(version + 3));
    await patchConfigWith('enabled');
  });

  it('keeps the system configuration’s ETag when a PATCH sets the value in force, a stale If-Match still 412', async () => {
    const { value, other, version } = await currentConfig();

    for (const ifMatch of [etag(version), '*', undefined]) {
      const same = await patchConfigWith(value, ifMatch);
      expect(same).toMatchObject({ status: 200, body: { aliasAuthentication: value } });
      expect(same.headers.get('etag')).toBe(etag(version));
    }
    const stale = await patchConfigWith(value, etag(version + 5));
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    expect((await currentConfig()).version).toBe(version);

    // The ETag the unchanging PATCHes answered still names the configuration.
    const changed = await patchConfigWith(other, etag(version));
    expect(changed).toMatchObject({ status: 200, body: { aliasAuthentication: other } });
    expect(changed.headers.get('etag')).toBe(etag(version + 1));
    await patchConfigWith('enabled');
  });

  it('counts the system configuration as version 1 before it is first written, and an item of before versions too', async () => {
    await rawDelete(systemConfigKey);
    const absent = await api.request('GET', '/system/config', { token: admin });
    expect(absent).toMatchObject({ status: 200, body: { aliasAuthentication: 'enabled' } });
    expect(absent.headers.get('etag')).toBe('"1"');
    // The default is the value in force: setting it writes nothing.
    expect((await patchConfigWith('enabled', '"1"')).headers.get('etag')).toBe('"1"');
    expect((await patchConfigWith('disabled', '"2"')).status).toBe(412);
    expect((await patchConfigWith('disabled', '"1"')).headers.get('etag')).toBe('"2"');

    await rawUpdate({ Key: systemConfigKey, UpdateExpression: 'REMOVE version' });
    const read = await api.request('GET', '/system/config', { token: admin });
    expect(read.headers.get('etag')).toBe('"1"');
    expect((await patchConfigWith('enabled', '"2"')).status).toBe(412);
    expect((await patchConfigWith('enabled', '"1"')).headers.get('etag')).toBe('"2"');
  });
});
