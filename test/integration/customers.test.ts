import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKey } from '../../lib/data/keys.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(() => api?.stop());

const newCustomer = (overrides: Record<string, unknown> = {}) => ({
  name: 'Acme Telecom',
  businessModel: 'universal',
  currency: 'EUR',
  ...overrides,
});

async function create(token: string, overrides: Record<string, unknown> = {}) {
  const answer = await api.request('POST', '/customers', { token, body: newCustomer(overrides) });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; name: string; resellerId: string | null };
}

/** Every name of a customer list, page by page through its cursors, and how many pages it took. */
async function walkCustomerList(token: string, query: string) {
  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: {
      status: number;
      body: { items: { name: string }[]; nextCursor: string | null };
    } = await api.request(
      'GET',
      `/customers?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    expect(page.status).toBe(200);
    names.push(...page.body.items.map((item) => item.name));
    cursor = page.body.nextCursor;
    pages += 1;
  } while (cursor);
  return { names, pages };
}

/** Counts every customer the admin can list: a rejected request must not change it. */
async function customerCount(): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { body: { items: unknown[]; nextCursor: string | null } } = await api.request(
      'GET',
      `/customers?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      { token: admin },
    );
    count += page.body.items.length;
    cursor = page.body.nextCursor;
  } while (cursor);
  return count;
}

describe('health and description', () => {
  it('answers /health without a token', async () => {
    const answer = await api.request('GET', '/health');
    expect(answer).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('serves an OpenAPI 3.1 document covering every route', async () => {
    const answer = await api.request('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    expect(Object.keys(answer.body.paths)).toEqual(
      expect.arrayContaining(['/health', '/openapi.json', '/customers', '/customers/{id}']),
    );
    expect(
      answer.body.paths['/customers'].post.requestBody.content['application/json'].schema,
    ).toBeDefined();
  });
});

describe('creating a customer', () => {
  it('answers 201 with the customer, its Location and an ETag, and the defaults of §3-4', async () => {
    const answer = await api.request('POST', '/customers', { token: admin, body: newCustomer() });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('location')).toBe(`/customers/${answer.body.id}`);
    expect(answer.headers.get('etag')).toBe('"1"');
    expect(answer.body).toMatchObject({
      name: 'Acme Telecom',
      resellerId: null,
      businessModel: 'universal',
      currency: 'EUR',
      billingPeriod: 'monthly',
      timezone: 'UTC',
      status: 'active',
      terminatedAt: null,
      terminatedBy: null,
      additionalInfo: {
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
    expect(answer.body.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const read = await api.request('GET', `/customers/${answer.body.id}`, { token: admin });
    expect(read.body).toEqual(answer.body);
    expect(read.headers.get('etag')).toBe('"1"');
  });

  it('gives a reseller’s customer the reseller’s id, and refuses another reseller’s id with 403', async () => {
    const reseller = await api.tokens.reseller('r-create');
    expect((await create(reseller)).resellerId).toBe('r-create');
    expect((await create(reseller, { resellerId: 'r-create' })).resellerId).toBe('r-create');
    const before = await customerCount();
    const other = await api.request('POST', '/customers', {
      token: reseller,
      body: newCustomer({ resellerId: 'r-other' }),
    });
    expect(other).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await customerCount()).toBe(before);
  });

  it('lets an admin create a customer for any reseller', async () => {
    expect((await create(admin, { resellerId: 'r-any' })).resellerId).toBe('r-any');
  });
});

describe('bad input writes nothing and answers problem+json', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['an unknown field', newCustomer({ colour: 'red' }), ['body.colour']],
    ['a wrong type', newCustomer({ name: 42 }), ['body.name']],
    ['an unknown business model', newCustomer({ businessModel: 'fax' }), ['body.businessModel']],
    ['a currency that is not ISO 4217', newCustomer({ currency: 'EURO' }), ['body.currency']],
    ['a time zone that is not IANA', newCustomer({ timezone: 'Mars/Base' }), ['body.timezone']],
    ['a blank name', newCustomer({ name: '   ' }), ['body.name']],
    [
      'several bad fields at once',
      { name: '', businessModel: 1 },
      ['body.name', 'body.businessModel', 'body.currency'],
    ],
  ];
  it.each(cases)(
    'refuses %s with 400 validation_failed naming each field',
    async (_, body, paths) => {
      const before = await customerCount();
      const answer = await api.request('POST', '/customers', { token: admin, body });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body).toMatchObject({
        status: 400,
        code: 'validation_failed',
        type: expect.any(String),
        title: expect.any(String),
      });
      expect(answer.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(
        [...paths].sort(),
      );
      expect(await customerCount()).toBe(before);
    },
  );

  it('refuses malformed JSON with 400', async () => {
    const answer = await api.request('POST', '/customers', {
      token: admin,
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { code: 'validation_failed', errors: [{ path: 'body' }] },
    });
  });

  it('refuses a body over 256 KiB with 413 payload_too_large', async () => {
    const answer = await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer({ name: 'x'.repeat(256 * 1024) }),
    });
    expect(answer).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
  });

  it('accepts a body of exactly 256 KiB as far as size goes (then validates it)', async () => {
    const base = JSON.stringify(newCustomer({ name: '' }));
    const body = JSON.stringify(newCustomer({ name: 'y'.repeat(256 * 1024 - base.length) }));
    expect(Buffer.byteLength(body)).toBe(256 * 1024);
    const answer = await api.request('POST', '/customers', { token: admin, rawBody: body });
    expect(answer).toMatchObject({ status: 400, body: { errors: [{ path: 'body.name' }] } });
  });

  it('answers an unknown id of any shape with 404, and a value no id could be with 400', async () => {
    for (const id of ['01ARZ3NDEKTSV4RRFFQ69G5FAV', 'not-an-id']) {
      const unknown = await api.request('GET', `/customers/${id}`, { token: admin });
      expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
    }
    const impossible = await api.request('GET', `/customers/${'x'.repeat(300)}`, { token: admin });
    expect(impossible).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  });

  it('answers an unknown route with 404 not_found', async () => {
    expect(await api.request('GET', '/nowhere', { token: admin })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
  });
});

describe('callers and the check order (§1-2)', () => {
  it('answers 401 without a token, with a bad signature and with unusable claims', async () => {
    expect((await api.request('GET', '/customers')).body.code).toBe('unauthorized');
    expect((await api.request('GET', '/customers', { token: `${admin}x` })).status).toBe(401);
    const roleless = await api.tokens.signed({ role: 'janitor' });
    expect(await api.request('GET', '/customers', { token: roleless })).toMatchObject({
      status: 401,
      body: { code: 'unauthorized' },
    });
    const resellerWithoutId = await api.tokens.signed({ role: 'reseller' });
    expect((await api.request('GET', '/customers', { token: resellerWithoutId })).status).toBe(401);
  });

  it('checks authentication before role, role before schema, schema before existence', async () => {
    const bad = { rawBody: '{', headers: { 'content-type': 'application/json' } };
    expect((await api.request('POST', '/customers', bad)).status).toBe(401);
    const customerToken = await api.tokens.customer('01ARZ3NDEKTSV4RRFFQ69G5FAV');
    expect((await api.request('POST', '/customers', { ...bad, token: customerToken })).status).toBe(
      403,
    );
    expect(
      (
        await api.request('PATCH', '/customers/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
          ...bad,
          token: admin,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.request('PATCH', '/customers/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
          token: admin,
          body: { name: 'n' },
        })
      ).status,
    ).toBe(404);
  });

  it('forbids the switch role the customer routes, and the customer role any change', async () => {
    const mine = await create(admin);
    const self = await api.tokens.customer(mine.id);
    expect(
      (await api.request('GET', `/customers/${mine.id}`, { token: api.tokens.switch })).body.code,
    ).toBe('forbidden');
    expect((await api.request('GET', `/customers/${mine.id}`, { token: self })).status).toBe(200);
    expect(
      await api.request('PATCH', `/customers/${mine.id}`, { token: self, body: { name: 'Mine' } }),
    ).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it('hides customers outside the caller’s scope as 404, for reads and writes', async () => {
    const r1 = await api.tokens.reseller('scope-r1');
    const r2 = await api.tokens.reseller('scope-r2');
    const theirs = await create(r1, { name: 'Scoped One' });
    const other = await create(admin);
    expect((await api.request('GET', `/customers/${theirs.id}`, { token: r2 })).body.code).toBe(
      'not_found',
    );
    const patch = await api.request('PATCH', `/customers/${theirs.id}`, {
      token: r2,
      body: { name: 'Stolen' },
    });
    expect(patch).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect((await api.request('GET', `/customers/${theirs.id}`, { token: r1 })).body.name).toBe(
      'Scoped One',
    );
    const customerToken = await api.tokens.customer(theirs.id);
    expect(
      (await api.request('GET', `/customers/${other.id}`, { token: customerToken })).status,
    ).toBe(404);
  });
});

describe('changing a customer', () => {
  it('renames, bumps the ETag and honours If-Match', async () => {
    const { id } = await create(admin);
    const renamed = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Renamed', timezone: 'Europe/Berlin' },
      headers: { 'if-match': '"1"' },
    });
    expect(renamed).toMatchObject({
      status: 200,
      body: { name: 'Renamed', timezone: 'Europe/Berlin' },
    });
    expect(renamed.headers.get('etag')).toBe('"2"');
    const stale = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Late' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale).toMatchObject({ status: 412, body: { code: 'precondition_failed' } });
    const any = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Any' },
      headers: { 'if-match': '*' },
    });
    expect(any.headers.get('etag')).toBe('"3"');
    expect((await api.request('GET', `/customers/${id}`, { token: admin })).body.name).toBe('Any');
  });

  it('refuses businessModel, currency and an empty patch with 400, changing nothing', async () => {
    const { id } = await create(admin);
    for (const body of [{ businessModel: 'mobile' }, { currency: 'USD' }, {}]) {
      expect((await api.request('PATCH', `/customers/${id}`, { token: admin, body })).status).toBe(
        400,
      );
    }
    const read = await api.request('GET', `/customers/${id}`, { token: admin });
    expect(read.headers.get('etag')).toBe('"1"');
  });

  it('refuses any change to a terminated customer with 409 customer_terminated; reads still work', async () => {
    const { id } = await create(admin);
    // Termination itself is [cascade]'s route; here the record is put in that state directly.
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }),
    );
    await db.send(
      new UpdateCommand({
        TableName: api.runtime.tableName,
        Key: customerKey(id),
        UpdateExpression: 'SET #status = :terminated',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':terminated': 'terminated' },
      }),
    );
    const patch = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Zombie' },
    });
    expect(patch).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    const read = await api.request('GET', `/customers/${id}`, { token: admin });
    expect(read).toMatchObject({
      status: 200,
      body: { status: 'terminated', name: 'Acme Telecom' },
    });
  });
});

describe('listing customers', () => {
  it('pages through a reseller’s customers by name, completely and without repeats', async () => {
    const token = await api.tokens.reseller('list-r1');
    const names = ['delta', 'Alpha', 'charlie', 'Bravo', 'echo'];
    for (const name of names) await create(token, { name });
    await create(await api.tokens.reseller('list-r2'), { name: 'Alpha Other' });
    const { names: seen, pages } = await walkCustomerList(token, 'limit=2');
    expect(seen).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'echo']);
    expect(pages).toBe(3);
  });

  it('pages through the admin’s list, spread over index shards, in one name order without repeats', async () => {
    const names = Array.from(
      { length: 12 },
      (_, index) => `Shardwalk ${String(index).padStart(2, '0')}`,
    );
    // Created in reverse so that creation order never happens to be name order.
    for (const name of names.toReversed()) await create(api.tokens.admin, { name });
    const walk = async (query: string) =>
      (await walkCustomerList(api.tokens.admin, `${query}&limit=5`)).names;
    expect(await walk('q=shardwalk')).toEqual(names);
    const mainOffices = names.filter((_, index) => index % 3 === 0);
    const ids = new Map<string, string>();
    const all = await api.request('GET', '/customers?q=shardwalk&limit=100', {
      token: api.tokens.admin,
    });
    for (const item of all.body.items) ids.set(item.name, item.id);
    for (const name of mainOffices) {
      const made = await api.request('PATCH', `/customers/${ids.get(name)}/additional-info`, {
        token: api.tokens.admin,
        body: { officeHierarchy: { enabled: true, office: 'main' } },
      });
      expect(made.status).toBe(200);
    }
    expect(await walk('q=shardwalk&office=main')).toEqual(mainOffices);
  });

  it('filters by case-insensitive name prefix', async () => {
    const token = await api.tokens.reseller('prefix-r1');
    for (const name of ['Northwind', 'northstar', 'Southwind']) await create(token, { name });
    const page = await api.request('GET', '/customers?q=NORTH', { token });
    expect(page.body.items.map((item: { name: string }) => item.name)).toEqual([
      'northstar',
      'Northwind',
    ]);
    expect(page.body.nextCursor).toBeNull();
  });

  it('lists a renamed customer under its new name, in its new place, and no longer under the old', async () => {
    const token = await api.tokens.reseller('rename-r1');
    const zeta = await create(token, { name: 'Zeta Corp' });
    await create(token, { name: 'Beta Corp' });
    const renamed = await api.request('PATCH', `/customers/${zeta.id}`, {
      token,
      body: { name: 'Alpha Corp' },
    });
    expect(renamed.status).toBe(200);
    const all = await api.request('GET', '/customers', { token });
    expect(all.body.items.map((item: { name: string }) => item.name)).toEqual([
      'Alpha Corp',
      'Beta Corp',
    ]);
    const old = await api.request('GET', '/customers?q=zeta', { token });
    expect(old.body.items).toEqual([]);
  });

  it('shows a customer only itself', async () => {
    const mine = await create(admin, { name: 'Self Only' });
    const page = await api.request('GET', '/customers', {
      token: await api.tokens.customer(mine.id),
    });
    expect(page.body).toEqual({
      items: [expect.objectContaining({ id: mine.id })],
      nextCursor: null,
    });
  });

  it('refuses a bad limit, an unknown parameter and a forged or foreign cursor with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'colour=red',
      'cursor=%%%',
      'cursor=e30',
    ]) {
      expect((await api.request('GET', `/customers?${query}`, { token: admin })).status).toBe(400);
    }
    const r1 = await api.tokens.reseller('cursor-r1');
    for (const name of ['a1', 'a2']) await create(r1, { name });
    const first = await api.request('GET', '/customers?limit=1', { token: r1 });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const foreign = await api.request('GET', `/customers?limit=1&cursor=${first.body.nextCursor}`, {
      token: await api.tokens.reseller('cursor-r2'),
    });
    expect(foreign).toMatchObject({ status: 400, body: { errors: [{ path: 'query.cursor' }] } });
  });
});

describe('Idempotency-Key on POST /customers', () => {
  it('replays the first answer for the same key and body, without creating again', async () => {
    const headers = { 'idempotency-key': 'create-once' };
    const first = await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer({ name: 'Once' }),
      headers,
    });
    const before = await customerCount();
    const again = await api.request('POST', '/customers', {
      token: admin,
      // Same body in another key order is the same request.
      body: { currency: 'EUR', businessModel: 'universal', name: 'Once' },
      headers,
    });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(await customerCount()).toBe(before);
  });

  it('refuses the same key with another body with 422 idempotency_key_reused', async () => {
    const headers = { 'idempotency-key': 'create-reused' };
    await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer({ name: 'First' }),
      headers,
    });
    const reused = await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer({ name: 'Second' }),
      headers,
    });
    expect(reused).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
  });

  it('scopes keys to the caller: another reseller’s same key creates its own customer', async () => {
    const headers = { 'idempotency-key': 'shared-key' };
    const body = newCustomer({ name: 'Scoped Key' });
    const one = await api.request('POST', '/customers', {
      token: await api.tokens.reseller('idem-r1'),
      body,
      headers,
    });
    const two = await api.request('POST', '/customers', {
      token: await api.tokens.reseller('idem-r2'),
      body,
      headers,
    });
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(one.body.id).not.toBe(two.body.id);
  });

  it('lets concurrent requests with one key create exactly one customer', async () => {
    const headers = { 'idempotency-key': 'create-race' };
    const body = newCustomer({ name: 'Raced Key' });
    const before = await customerCount();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.request('POST', '/customers', { token: admin, body, headers }),
      ),
    );
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((answer) => answer.body.id)).size).toBe(1);
    for (const answer of answers.filter((answer) => answer.status !== 201)) {
      expect(answer).toMatchObject({ status: 409, body: { code: 'request_in_progress' } });
    }
    expect(await customerCount()).toBe(before + 1);
  });

  it('releases the key when the request is refused, so a corrected retry goes through', async () => {
    const token = await api.tokens.reseller('idem-release');
    const headers = { 'idempotency-key': 'release-me' };
    const refused = await api.request('POST', '/customers', {
      token,
      body: newCustomer({ resellerId: 'someone-else' }),
      headers,
    });
    expect(refused.status).toBe(403);
    const retried = await api.request('POST', '/customers', {
      token,
      body: newCustomer(),
      headers,
    });
    expect(retried.status).toBe(201);
  });

  it('refuses a key longer than 255 characters with 400', async () => {
    const answer = await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer(),
      headers: { 'idempotency-key': 'k'.repeat(256) },
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'header.Idempotency-Key' }] },
    });
  });
});

describe('inputs at the edges of what DynamoDB accepts', () => {
  it('stores a name that NFKC makes many times longer (the search key is cut, not the name)', async () => {
    const name = '\u3300'.repeat(150);
    const created = await api.request('POST', '/customers', {
      token: admin,
      body: newCustomer({ name }),
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe(name);
    const found = await api.request(
      'GET',
      `/customers?q=${encodeURIComponent('\u3300'.repeat(100))}`,
      {
        token: admin,
      },
    );
    expect(found.body.items.map((item: { id: string }) => item.id)).toContain(created.body.id);
  });

  it('refuses a name with a lone surrogate with 400', async () => {
    const answer = await api.request('POST', '/customers', {
      token: admin,
      rawBody: '{"name":"a\\ud800b","businessModel":"universal","currency":"EUR"}',
    });
    expect(answer).toMatchObject({ status: 400, body: { errors: [{ path: 'body.name' }] } });
  });

  it('refuses If-Match with more than 50 ETags with 400', async () => {
    const { id } = await create(admin);
    const tags = Array.from({ length: 51 }, (_, index) => `"${index}"`).join(', ');
    const answer = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Tagged' },
      headers: { 'if-match': tags },
    });
    expect(answer).toMatchObject({ status: 400, body: { errors: [{ path: 'header.If-Match' }] } });
  });

  it('refuses a cursor reused with another prefix, which would start outside the query', async () => {
    const token = await api.tokens.reseller('cursor-prefix');
    for (const name of ['aa1', 'aa2', 'zz1']) await create(token, { name });
    const first = await api.request('GET', '/customers?q=aa&limit=1', { token });
    const reused = await api.request(
      'GET',
      `/customers?q=zz&limit=1&cursor=${first.body.nextCursor}`,
      {
        token,
      },
    );
    expect(reused).toMatchObject({ status: 400, body: { errors: [{ path: 'query.cursor' }] } });
  });

  it('writes nothing for a rename to the same name: the ETag stays', async () => {
    const { id } = await create(admin, { name: 'Same' });
    const answer = await api.request('PATCH', `/customers/${id}`, {
      token: admin,
      body: { name: 'Same' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('etag')).toBe('"1"');
  });

  it('answers a path such as // with 404, not 500', async () => {
    const response = await fetch(`${api.runtime.url}//`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(404);
  });
});
