import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, patchPanel, readPanel } from './support/customers.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(() => api?.stop());

const paidPricing = (currency = 'EUR') => ({
  free: false,
  currency,
  activationFee: '1.00',
  recurringFee: '0.50',
  markupPercent: '12.5',
  roundingDecimals: 2,
});

let named = 0;
/** A name no other test of this file uses. */
const uniqueName = (prefix = 'Batch') => `${prefix} ${++named}`;

const postBatch = (body: unknown, token = admin) =>
  api.request('POST', '/did-batches', { token, body });

async function createBatch(overrides: Record<string, unknown> = {}) {
  const answer = await postBatch({
    name: uniqueName(),
    source: 'inventory',
    pricing: paidPricing(),
    ...overrides,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as { id: string; name: string };
}

/** Every batch, page by page. */
async function allBatches(): Promise<{ id: string; name: string }[]> {
  const found = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const page = await api.request('GET', `/did-batches?limit=100${query}`, { token: admin });
    expect(page.status).toBe(200);
    found.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return found;
}

let numbered = 0;
/** Numbers no other test of this file uses. */
const freshNumbers = (count: number) =>
  Array.from({ length: count }, () => `+4930${String(5_000_000 + ++numbered)}`);

const entry = (number: string, fields: Record<string, unknown> = {}) => ({
  number,
  kind: 'local',
  country: 'DE',
  area: '30',
  activationCost: '1.50',
  recurringCost: '0.99',
  ...fields,
});

const importInto = (batchId: string, numbers: unknown[], token = admin) =>
  api.request('POST', `/did-batches/${batchId}/numbers`, { token, body: { numbers } });

describe('batches', () => {
  it('creates, reads and lists a batch, with Location and ETag', async () => {
    const name = uniqueName('Berlin');
    const created = await postBatch({ name, source: 'inventory', pricing: paidPricing() });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name,
      source: 'inventory',
      provider: null,
      pricing: paidPricing(),
      createdAt: expect.any(String),
    });
    expect(created.headers.get('location')).toBe(`/did-batches/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('"1"');

    const read = await api.request('GET', `/did-batches/${created.body.id}`, { token: admin });
    expect(read).toMatchObject({ status: 200, body: created.body });
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await allBatches()).toContainEqual(created.body);

    const provider = await postBatch({
      name: uniqueName('DIDWW'),
      source: 'provider',
      provider: 'didww',
      pricing: { free: true },
    });
    expect(provider).toMatchObject({ status: 201, body: { provider: 'didww' } });
  });

  it('lists by name, case-insensitively, page by page', async () => {
    const names = ['zeta list', 'Alpha list', 'beta list'];
    for (const name of names) await createBatch({ name });
    const listed = (await allBatches()).map(({ name }) => name).filter((n) => n.endsWith(' list'));
    expect(listed).toEqual(['Alpha list', 'beta list', 'zeta list']);

    const first = await api.request('GET', '/did-batches?limit=1', { token: admin });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api.request(
      'GET',
      `/did-batches?limit=1&cursor=${first.body.nextCursor}`,
      {
        token: admin,
      },
    );
    expect(second.body.items[0].name > first.body.items[0].name).toBe(true);
  });

  it('answers 404 for an unknown batch and 403 for anyone but the admin', async () => {
    const unknown = await api.request('GET', '/did-batches/01ARZ3NDEKTSV4RRFFQ69G5FAV', {
      token: admin,
    });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const reseller = await api.tokens.reseller('r1');
    expect(
      (await postBatch({ name: 'x', source: 'inventory', pricing: { free: true } }, reseller))
        .status,
    ).toBe(403);
    expect((await api.request('GET', '/did-batches', { token: reseller })).status).toBe(403);
  });

  it('refuses a name taken in another spelling with 409 name_taken', async () => {
    const { name } = await createBatch({ name: 'Straße Batch' });
    // The same name in another case, padded, and in full-width letters.
    for (const spelling of [name, 'STRAßE batch', ' straße batch ', 'ｓｔｒａßｅ Batch']) {
      const answer = await postBatch({
        name: spelling,
        source: 'inventory',
        pricing: { free: true },
      });
      expect(answer, spelling).toMatchObject({ status: 409, body: { code: 'name_taken' } });
    }
    expect((await allBatches()).filter((batch) => batch.name === name)).toHaveLength(1);
  });

  it('lets exactly one of 10 concurrent creations of one name win', async () => {
    const name = uniqueName('Race');
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        postBatch({
          name: index % 2 === 0 ? name : name.toUpperCase(),
          source: 'inventory',
          pricing: { free: true },
        }),
      ),
    );
    expect(answers.filter(({ status }) => status === 201)).toHaveLength(1);
    for (const answer of answers.filter(({ status }) => status !== 201)) {
      expect(answer).toMatchObject({ status: 409, body: { code: 'name_taken' } });
    }
    const listed = (await allBatches()).filter(
      (batch) => batch.name.toLowerCase() === name.toLowerCase(),
    );
    expect(listed).toHaveLength(1);
  });

  it('refuses bad bodies with 400, writing nothing', async () => {
    const before = await allBatches();
    const name = uniqueName('Invalid');
    const bad: [unknown, string][] = [
      [{ name, source: 'inventory', pricing: { free: false } }, 'body.pricing.currency'],
      [
        { name, source: 'inventory', pricing: { ...paidPricing(), activationFee: 1 } },
        'body.pricing.activationFee',
      ],
      [
        { name, source: 'inventory', pricing: { ...paidPricing(), recurringFee: '0.1234567' } },
        'body.pricing.recurringFee',
      ],
      [
        { name, source: 'inventory', pricing: { ...paidPricing(), roundingDecimals: 7 } },
        'body.pricing.roundingDecimals',
      ],
      [{ name, source: 'provider', pricing: { free: true } }, 'body.provider'],
      [{ name, source: 'inventory', provider: 'didww', pricing: { free: true } }, 'body.provider'],
      [{ name, source: 'shop', pricing: { free: true } }, 'body.source'],
      [{ name: '', source: 'inventory', pricing: { free: true } }, 'body.name'],
      [{ name, source: 'inventory', pricing: { free: true }, extra: 1 }, 'body.extra'],
    ];
    for (const [body, path] of bad) {
      const answer = await postBatch(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.code).toBe('validation_failed');
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
    expect(await allBatches()).toEqual(before);
  });
});

describe('the inventory', () => {
  it('imports numbers as available and answers what was added', async () => {
    const batch = await createBatch();
    const [local, tollFree] = freshNumbers(2) as [string, string];
    const answer = await importInto(batch.id, [
      entry(local),
      entry(tollFree, { kind: 'toll_free', country: 'US', area: undefined }),
    ]);
    expect(answer).toMatchObject({ status: 200, body: { added: [local, tollFree], rejected: [] } });
  });

  it('rejects numbers already in any batch as duplicate while the rest land', async () => {
    const first = await createBatch();
    const second = await createBatch();
    const [a, b, c] = freshNumbers(3) as [string, string, string];
    await importInto(first.id, [entry(a)]);

    const answer = await importInto(second.id, [entry(b), entry(a), entry(c)]);
    expect(answer.body).toEqual({ added: [b, c], rejected: [{ number: a, reason: 'duplicate' }] });
    const again = await importInto(first.id, [entry(b)]);
    expect(again.body).toEqual({ added: [], rejected: [{ number: b, reason: 'duplicate' }] });
  });

  it('adds each number exactly once when two imports of overlapping numbers race', async () => {
    const first = await createBatch();
    const second = await createBatch();
    const numbers = freshNumbers(30);
    const [one, two] = await Promise.all([
      importInto(
        first.id,
        numbers.slice(0, 20).map((number) => entry(number)),
      ),
      importInto(
        second.id,
        numbers.slice(10).map((number) => entry(number)),
      ),
    ]);
    expect(one.status).toBe(200);
    expect(two.status).toBe(200);
    const added = [...one.body.added, ...two.body.added];
    expect(added.sort()).toEqual([...numbers].sort());
    const rejected = [...one.body.rejected, ...two.body.rejected].map(({ number }) => number);
    expect(rejected.sort()).toEqual(numbers.slice(10, 20).sort());
  });

  it('refuses a schema break anywhere with 400 and writes nothing', async () => {
    const batch = await createBatch();
    const good = freshNumbers(3).map((number) => entry(number));
    const breaks: [unknown[], string][] = [
      [
        [...good, { ...entry(freshNumbers(1)[0] as string), activationCost: 1.5 }],
        'body.numbers.3.activationCost',
      ],
      [
        [...good, entry(freshNumbers(1)[0] as string, { recurringCost: '0.1234567' })],
        'body.numbers.3.recurringCost',
      ],
      [[...good, entry('+0301234567')], 'body.numbers.3.number'],
      [[...good, entry('4930123456')], 'body.numbers.3.number'],
      [[...good, entry(freshNumbers(1)[0] as string, { kind: 'mobile' })], 'body.numbers.3.kind'],
      [
        [...good, entry(freshNumbers(1)[0] as string, { country: 'Germany' })],
        'body.numbers.3.country',
      ],
      [
        [...good, entry(freshNumbers(1)[0] as string, { area: 'x'.repeat(17) })],
        'body.numbers.3.area',
      ],
      [[...good, good[0]], 'body.numbers.3.number'],
      [freshNumbers(1001).map((number) => entry(number)), 'body.numbers'],
    ];
    for (const [numbers, path] of breaks) {
      const answer = await importInto(batch.id, numbers);
      expect(answer.status, path).toBe(400);
      expect(answer.body.code).toBe('validation_failed');
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
    // Nothing landed: the good numbers are still new to the inventory.
    const after = await importInto(batch.id, good);
    expect(after.body).toEqual({ added: good.map(({ number }) => number), rejected: [] });
  });

  it('imports 1,000 numbers in one call, in the order sent, a few of them duplicates', async () => {
    const batch = await createBatch();
    const taken = freshNumbers(3);
    await importInto(
      batch.id,
      taken.map((number) => entry(number)),
    );
    const numbers = [...freshNumbers(997), ...taken];
    const answer = await importInto(
      batch.id,
      numbers.map((number) => entry(number)),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      added: numbers.slice(0, 997),
      rejected: taken.map((number) => ({ number, reason: 'duplicate' })),
    });
  });

  it('answers 404 for an unknown batch and 409 batch_not_inventory for a provider batch, writing nothing', async () => {
    const numbers = freshNumbers(2).map((number) => entry(number));
    const unknown = await importInto('01ARZ3NDEKTSV4RRFFQ69G5FAV', numbers);
    expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const provider = await createBatch({ source: 'provider', provider: 'didww' });
    const refused = await importInto(provider.id, numbers);
    expect(refused).toMatchObject({ status: 409, body: { code: 'batch_not_inventory' } });

    const batch = await createBatch();
    const after = await importInto(batch.id, numbers);
    expect(after.body.added).toHaveLength(2);
  });
});

describe('the panel’s batch rules (§4)', () => {
  it('enables auto-provisioning with a real batch', async () => {
    const batch = await createBatch();
    const { id } = await createCustomer(api, admin);
    const enabled = await patchPanel(api, admin, id, {
      didAutoProvisioning: { enabled: true, batchId: batch.id },
    });
    expect(enabled).toMatchObject({
      status: 200,
      body: { didAutoProvisioning: { enabled: true, batchId: batch.id } },
    });
  });

  it('refuses an unknown batch with 404 did_batch_not_found', async () => {
    const { id } = await createCustomer(api, admin);
    const before = await readPanel(api, admin, id);
    const answer = await patchPanel(api, admin, id, {
      didAutoProvisioning: { enabled: true, batchId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
    });
    expect(answer).toMatchObject({ status: 404, body: { code: 'did_batch_not_found' } });
    expect(await readPanel(api, admin, id)).toEqual(before);
  });

  it('refuses a paid batch in another currency with 422 currency_mismatch', async () => {
    const usd = await createBatch({ pricing: paidPricing('USD') });
    const { id } = await createCustomer(api, admin, { currency: 'EUR' });
    const before = await readPanel(api, admin, id);
    for (const body of [
      { didAutoProvisioning: { enabled: true, batchId: usd.id } },
      { didAutoProvisioning: { batchId: usd.id } },
    ]) {
      const answer = await patchPanel(api, admin, id, body);
      expect(answer).toMatchObject({ status: 422, body: { code: 'currency_mismatch' } });
    }
    expect(await readPanel(api, admin, id)).toEqual(before);
  });

  it('accepts a free batch for a customer of any currency', async () => {
    const free = await createBatch({ pricing: { free: true } });
    for (const currency of ['EUR', 'JPY']) {
      const { id } = await createCustomer(api, admin, { currency });
      const answer = await patchPanel(api, admin, id, {
        didAutoProvisioning: { enabled: true, batchId: free.id },
      });
      expect(answer.status, currency).toBe(200);
    }
  });
});
