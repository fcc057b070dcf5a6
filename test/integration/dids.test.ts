import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import {
  createCustomer,
  createMainOffice,
  linkBranch,
  markTerminated,
  patchPanel,
} from './support/customers.js';
import {
  assign,
  createBatch,
  freshNumbers,
  importInto,
  inventoryEntry,
  listDids,
  offers,
  provisionedCustomer,
  release,
  type TableReader,
  tableReader,
} from './support/dids.js';
import { beforeFirstSend } from './support/interleave.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/** Inventory batches through the HTTP API: offers, assignment with its charges, release (§8). */

let api: TestApi;
let table: TableReader;

beforeAll(async () => {
  api = await startTestApi();
  table = tableReader(api);
});
afterAll(async () => {
  table?.close();
  await api?.stop();
});

/** A batch with `count` fresh numbers at local/DE/30, and a customer provisioned on it. */
async function stockedCustomer(count = 3, overrides: Record<string, unknown> = {}) {
  const batch = await createBatch(api);
  const numbers = freshNumbers(count);
  await importInto(
    api,
    batch.id,
    numbers.map((number) => inventoryEntry(number)),
  );
  const customer = await provisionedCustomer(api, batch.id, overrides);
  return { batch, numbers, customer };
}

/** What a refusal must leave as it was: the numbers' items, the customer's DIDs and charges. */
async function snapshot(customerId: string, numbers: readonly string[]) {
  // The invoice aggregation marks each charge counted; compare once it has.
  await api.runtime.streamsIdle();
  return {
    dids: await Promise.all(numbers.map((number) => table.did(number))),
    held: await table.customerDids(customerId),
    charges: await table.charges(customerId),
  };
}

describe('offers', () => {
  it('lists the batch’s available numbers at a place, priced by the batch, in number order and paged', async () => {
    const batch = await createBatch(api);
    const berlin = freshNumbers(3);
    const [tollFree] = freshNumbers(1, '+49800');
    await importInto(api, batch.id, [
      ...berlin.map((number) => inventoryEntry(number)),
      inventoryEntry(tollFree as string, { kind: 'toll_free', area: undefined }),
      inventoryEntry(freshNumbers(1, '+4940')[0] as string, { area: '40' }),
    ]);
    const customer = await provisionedCustomer(api, batch.id);

    const first = await offers(api, customer.id, 'kind=local&country=DE&area=30&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual(
      berlin.slice(0, 2).map((number) => ({
        number,
        kind: 'local',
        country: 'DE',
        area: '30',
        // 1.50 + 1.00; 0.99 + 0.50 + 10% of 0.99 = 1.589, half-up to 1.59.
        activationPrice: '2.50',
        recurringPrice: '1.59',
        currency: 'EUR',
      })),
    );
    const second = await offers(
      api,
      customer.id,
      `kind=local&country=DE&area=30&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body).toMatchObject({ items: [{ number: berlin[2] }], nextCursor: null });

    const anyArea = await offers(api, customer.id, 'kind=local&country=DE');
    expect(anyArea.body.items).toHaveLength(4);
    const tollFreeOffers = await offers(api, customer.id, 'kind=toll_free&country=DE');
    expect(tollFreeOffers.body.items).toEqual([
      expect.objectContaining({ number: tollFree, kind: 'toll_free', area: null }),
    ]);
    const elsewhere = await offers(api, customer.id, 'kind=local&country=FR');
    expect(elsewhere.body).toEqual({ items: [], nextCursor: null });
  });

  it('shows a free batch’s prices as "0" in the customer’s currency', async () => {
    const batch = await createBatch(api, { pricing: { free: true } });
    const [number] = freshNumbers(1);
    await importInto(api, batch.id, [inventoryEntry(number as string)]);
    const customer = await provisionedCustomer(api, batch.id, { currency: 'USD' });

    const answer = await offers(api, customer.id, 'kind=local&country=DE');
    expect(answer.body.items).toEqual([
      expect.objectContaining({ activationPrice: '0', recurringPrice: '0', currency: 'USD' }),
    ]);
  });

  it('answers 400 for an unknown kind, a missing country or an unknown filter', async () => {
    const { customer } = await stockedCustomer(1);
    for (const query of ['kind=mobile&country=DE', 'kind=local', 'kind=local&country=DE&x=1']) {
      const answer = await offers(api, customer.id, query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.code, query).toBe('validation_failed');
    }
  });

  it('answers 409 did_provisioning_disabled without auto-provisioning', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const answer = await offers(api, customer.id, 'kind=local&country=DE');
    expect(answer).toMatchObject({ status: 409, body: { code: 'did_provisioning_disabled' } });
  });

  it('lets the customer and its reseller see its offers, and no one else', async () => {
    const { customer, numbers } = await stockedCustomer(1, { resellerId: 'r-offers' });
    const own = await offers(
      api,
      customer.id,
      'kind=local&country=DE',
      await api.tokens.customer(customer.id),
    );
    expect(own.body.items.map((offer: { number: string }) => offer.number)).toEqual(numbers);
    const reseller = await offers(
      api,
      customer.id,
      'kind=local&country=DE',
      await api.tokens.reseller('r-offers'),
    );
    expect(reseller.status).toBe(200);
    for (const stranger of [
      await api.tokens.reseller('r-other'),
      await api.tokens.customer('someone'),
    ]) {
      const answer = await offers(api, customer.id, 'kind=local&country=DE', stranger);
      expect(answer.status).toBe(404);
    }
  });
});

describe('assignment', () => {
  it('assigns numbers with their activation charges, takes them out of the offers and lists them', async () => {
    const { customer, numbers } = await stockedCustomer(3);

    const answer = await assign(api, customer.id, numbers.slice(0, 2));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.assigned).toEqual(
      numbers.slice(0, 2).map((number) => ({
        number,
        batchId: expect.any(String),
        kind: 'local',
        country: 'DE',
        area: '30',
        activationPrice: '2.50',
        recurringPrice: '1.59',
        currency: 'EUR',
        assignedAt: expect.any(String),
      })),
    );

    const listed = await listDids(api, customer.id);
    expect(listed.body).toEqual({ items: answer.body.assigned, nextCursor: null });
    for (const number of numbers.slice(0, 2)) {
      expect(await table.did(number)).toMatchObject({
        status: 'assigned',
        customerId: customer.id,
      });
    }
    const charges = await table.charges(customer.id);
    expect(charges.map(({ amount, currency, kind }) => ({ amount, currency, kind }))).toEqual([
      { amount: '2.50', currency: 'EUR', kind: 'did_activation' },
      { amount: '2.50', currency: 'EUR', kind: 'did_activation' },
    ]);
    const left = await offers(api, customer.id, 'kind=local&country=DE');
    expect(left.body.items.map((offer: { number: string }) => offer.number)).toEqual([numbers[2]]);
  });

  it('records no charge for a free batch', async () => {
    const batch = await createBatch(api, { pricing: { free: true } });
    const [number] = freshNumbers(1);
    await importInto(api, batch.id, [inventoryEntry(number as string)]);
    const customer = await provisionedCustomer(api, batch.id);

    expect((await assign(api, customer.id, [number])).status).toBe(201);
    expect(await table.charges(customer.id)).toEqual([]);
    expect(await table.customerDids(customer.id)).toHaveLength(1);
  });

  it('is all or nothing: one number taken refuses the call with 409 naming it, and writes nothing', async () => {
    const { batch, customer, numbers } = await stockedCustomer(3);
    const rival = await provisionedCustomer(api, batch.id);
    expect((await assign(api, rival.id, [numbers[1]])).status).toBe(201);
    const before = await snapshot(customer.id, numbers);

    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({
      status: 409,
      body: { code: 'did_unavailable', errors: [{ path: numbers[1] }] },
    });
    expect(await snapshot(customer.id, numbers)).toEqual(before);
  });

  it('refuses bad input with its 4xx and writes nothing', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const otherBatch = await stockedCustomer(1);
    const before = await snapshot(customer.id, [...numbers, ...otherBatch.numbers]);
    const cases: [unknown, number, string][] = [
      [['4930123'], 400, 'validation_failed'],
      [[], 400, 'validation_failed'],
      [[numbers[0], numbers[0]], 400, 'validation_failed'],
      [freshNumbers(21), 400, 'validation_failed'],
      [[1234], 400, 'validation_failed'],
      // A number of another batch is not this customer's to take.
      [otherBatch.numbers, 409, 'did_unavailable'],
      // Not in any inventory.
      [freshNumbers(1), 409, 'did_unavailable'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await assign(api, customer.id, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.code).toBe(code);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    const unknown = await api.request('POST', `/customers/${customer.id}/dids`, {
      token: api.tokens.admin,
      body: { numbers, extra: true },
    });
    expect(unknown.status).toBe(400);
    expect(await snapshot(customer.id, [...numbers, ...otherBatch.numbers])).toEqual(before);
  });

  it('answers 404 to a stranger and 409 customer_terminated for a terminated customer, writing nothing', async () => {
    const { customer, numbers } = await stockedCustomer(1, { resellerId: 'r-assign' });
    const before = await snapshot(customer.id, numbers);
    for (const token of [
      await api.tokens.reseller('r-other'),
      await api.tokens.customer('c-other'),
    ]) {
      expect((await assign(api, customer.id, numbers, { token })).status).toBe(404);
    }
    expect((await assign(api, 'no-such-customer', numbers)).status).toBe(404);
    expect(await snapshot(customer.id, numbers)).toEqual(before);

    const terminated = await api.request('POST', `/customers/${customer.id}/terminate`, {
      token: api.tokens.admin,
    });
    expect(terminated.status).toBe(200);
    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    expect(await table.did(numbers[0] as string)).toMatchObject({ status: 'available' });
  });

  it('gives each number to exactly one of 20 customers grabbing the same 5 at once', async () => {
    const batch = await createBatch(api);
    const numbers = freshNumbers(5);
    await importInto(
      api,
      batch.id,
      numbers.map((number) => inventoryEntry(number)),
    );
    const rivals = await Promise.all(
      Array.from({ length: 20 }, () => provisionedCustomer(api, batch.id)),
    );

    const answers = await Promise.all(rivals.map((rival) => assign(api, rival.id, numbers)));

    const winners = answers.filter((answer) => answer.status === 201);
    const losers = answers.filter((answer) => answer.status !== 201);
    expect(winners).toHaveLength(1);
    for (const loser of losers) {
      expect(loser.status, JSON.stringify(loser.body)).toBe(409);
      expect(loser.body.code).toBe('did_unavailable');
      expect(loser.body.errors.map((error: { path: string }) => error.path)).toEqual(numbers);
    }
    const winner = rivals[answers.indexOf(winners[0] as (typeof answers)[number])];
    for (const number of numbers) {
      expect(await table.did(number)).toMatchObject({ status: 'assigned', customerId: winner?.id });
    }
    for (const rival of rivals) {
      const isWinner = rival.id === winner?.id;
      expect(await table.customerDids(rival.id)).toHaveLength(isWinner ? 5 : 0);
      expect(await table.charges(rival.id)).toHaveLength(isWinner ? 5 : 0);
    }
  });

  it('gives interleaved grabs of overlapping numbers each number once, with its one charge', async () => {
    const batch = await createBatch(api);
    const numbers = freshNumbers(6);
    await importInto(
      api,
      batch.id,
      numbers.map((number) => inventoryEntry(number)),
    );
    const rivals = await Promise.all(
      Array.from({ length: 6 }, () => provisionedCustomer(api, batch.id)),
    );
    // Each rival wants two neighbouring numbers: every number is wanted twice.
    await Promise.all(
      rivals.map((rival, index) =>
        assign(api, rival.id, [numbers[index], numbers[(index + 1) % numbers.length]]),
      ),
    );
    for (const number of numbers) {
      const did = await table.did(number);
      const holders = [];
      for (const rival of rivals) {
        const held = await table.customerDids(rival.id);
        if (held.some((copy) => copy.number === number)) holders.push(rival.id);
      }
      if (did?.status === 'assigned') expect(holders).toEqual([did.customerId]);
      else expect(holders).toEqual([]);
    }
    for (const rival of rivals) {
      expect((await table.charges(rival.id)).length).toBe(
        (await table.customerDids(rival.id)).length,
      );
    }
  });
});

/**
 * A change landing between what an assignment or release read and its transaction:
 * the transaction's conditions, not the read, must refuse it.
 */
describe('changes between the read and the write', () => {
  const isTransaction = (command: string) => command === 'TransactWriteItemsCommand';

  async function interleaved<T>(change: () => Promise<unknown>, request: () => Promise<T>) {
    let ran = false;
    const remove = beforeFirstSend(sharedDb().client, isTransaction, async () => {
      remove();
      await change();
      ran = true;
    });
    try {
      return await request();
    } finally {
      remove();
      expect(ran, 'the change ran between the read and the write').toBe(true);
    }
  }

  it('refuses the assignment when auto-provisioning is disabled meanwhile', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const answer = await interleaved(
      () =>
        patchPanel(api, api.tokens.admin, customer.id, { didAutoProvisioning: { enabled: false } }),
      () => assign(api, customer.id, numbers),
    );
    expect(answer).toMatchObject({ status: 409, body: { code: 'did_provisioning_disabled' } });
    expect(await table.customerDids(customer.id)).toEqual([]);
    expect(await table.charges(customer.id)).toEqual([]);
    expect(await table.did(numbers[0] as string)).toMatchObject({ status: 'available' });
  });

  it('refuses the assignment when the customer is terminated meanwhile', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const answer = await interleaved(
      () => markTerminated(api, customer.id),
      () => assign(api, customer.id, numbers),
    );
    expect(answer).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    expect(await table.customerDids(customer.id)).toEqual([]);
    expect(await table.charges(customer.id)).toEqual([]);
  });

  it('plans the assignment again when the customer moves to another batch meanwhile', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const other = await createBatch(api);
    const answer = await interleaved(
      () =>
        patchPanel(api, api.tokens.admin, customer.id, {
          didAutoProvisioning: { enabled: true, batchId: other.id },
        }),
      () => assign(api, customer.id, numbers),
    );
    // The old batch's numbers are not the new batch's offers.
    expect(answer).toMatchObject({ status: 409, body: { code: 'did_unavailable' } });
    expect(await table.customerDids(customer.id)).toEqual([]);
  });

  it('refuses a number another customer took meanwhile, naming it', async () => {
    const { batch, customer, numbers } = await stockedCustomer(2);
    const rival = await provisionedCustomer(api, batch.id);
    let rivalAnswer: { status: number } | undefined;
    const answer = await interleaved(
      async () => {
        rivalAnswer = await assign(api, rival.id, [numbers[1]]);
      },
      () => assign(api, customer.id, numbers),
    );
    expect(rivalAnswer?.status).toBe(201);
    expect(answer).toMatchObject({
      status: 409,
      body: { code: 'did_unavailable', errors: [{ path: numbers[1] }] },
    });
    expect(await table.did(numbers[0] as string)).toMatchObject({ status: 'available' });
    expect(await table.customerDids(customer.id)).toEqual([]);
    expect(await table.charges(customer.id)).toEqual([]);
  });

  it('answers 404 to a release whose number was given up and taken by another meanwhile', async () => {
    const { batch, customer, numbers } = await stockedCustomer(1);
    const [number] = numbers as [string];
    const rival = await provisionedCustomer(api, batch.id);
    expect((await assign(api, customer.id, [number])).status).toBe(201);
    const answer = await interleaved(
      async () => {
        expect((await release(api, customer.id, number)).status).toBe(204);
        expect((await assign(api, rival.id, [number])).status).toBe(201);
      },
      () => release(api, customer.id, number),
    );
    expect(answer.status).toBe(404);
    expect(await table.did(number)).toMatchObject({ status: 'assigned', customerId: rival.id });
    expect(await table.customerDids(rival.id)).toHaveLength(1);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer and assigns or charges nothing twice', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const headers = { 'idempotency-key': `assign-${customer.id}` };

    const first = await assign(api, customer.id, numbers, { headers });
    const again = await assign(api, customer.id, numbers, { headers });

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await table.charges(customer.id)).toHaveLength(2);
    expect(await table.customerDids(customer.id)).toHaveLength(2);
  });

  it('answers 422 for the key with another body, and a refusal leaves the key free', async () => {
    const { customer, numbers } = await stockedCustomer(2);
    const headers = { 'idempotency-key': `reuse-${customer.id}` };
    expect((await assign(api, customer.id, [numbers[0]], { headers })).status).toBe(201);

    const other = await assign(api, customer.id, [numbers[1]], { headers });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect(await table.did(numbers[1] as string)).toMatchObject({ status: 'available' });

    const refusedKey = { 'idempotency-key': `refused-${customer.id}` };
    const taken = await assign(api, customer.id, [numbers[0]], { headers: refusedKey });
    expect(taken.status).toBe(409);
    // The refusal was not remembered: the key serves a request that succeeds.
    const retried = await assign(api, customer.id, [numbers[1]], { headers: refusedKey });
    expect(retried.status).toBe(201);
  });

  it('gives concurrent requests under one key one assignment: the others replay it or answer 409', async () => {
    const { customer, numbers } = await stockedCustomer(3);
    const headers = { 'idempotency-key': `race-${customer.id}` };

    const answers = await Promise.all(
      Array.from({ length: 5 }, () => assign(api, customer.id, numbers, { headers })),
    );

    for (const answer of answers) {
      expect([201, 409], JSON.stringify(answer.body)).toContain(answer.status);
      if (answer.status === 409) expect(answer.body.code).toBe('request_in_progress');
    }
    const created = answers.filter((answer) => answer.status === 201);
    expect(created.length).toBeGreaterThan(0);
    for (const answer of created) expect(answer.body).toEqual(created[0]?.body);
    expect(await table.charges(customer.id)).toHaveLength(3);
  });
});

describe('release', () => {
  it('returns the number to the inventory as available with releasedAt, and to the offers', async () => {
    const { customer, numbers } = await stockedCustomer(1);
    const [number] = numbers as [string];
    expect((await assign(api, customer.id, [number])).status).toBe(201);

    const answer = await release(api, customer.id, number);
    expect(answer.status).toBe(204);
    expect(await table.did(number)).toMatchObject({
      status: 'available',
      customerId: null,
      releasedAt: expect.any(String),
    });
    expect((await listDids(api, customer.id)).body.items).toEqual([]);
    const back = await offers(api, customer.id, 'kind=local&country=DE');
    expect(back.body.items.map((offer: { number: string }) => offer.number)).toEqual([number]);
    // The activation charge stays: the number was held.
    expect(await table.charges(customer.id)).toHaveLength(1);
    // Taken again by someone else, it is theirs.
    expect((await assign(api, customer.id, [number])).status).toBe(201);
  });

  it('answers 404 for a number the customer does not hold, or a stranger’s, and writes nothing', async () => {
    const { batch, customer, numbers } = await stockedCustomer(2, { resellerId: 'r-release' });
    const other = await provisionedCustomer(api, batch.id);
    expect((await assign(api, customer.id, [numbers[0]])).status).toBe(201);
    expect((await assign(api, other.id, [numbers[1]])).status).toBe(201);
    const before = await snapshot(customer.id, numbers);

    expect((await release(api, customer.id, numbers[1] as string)).status).toBe(404);
    expect((await release(api, customer.id, freshNumbers(1)[0] as string)).status).toBe(404);
    expect(
      (await release(api, customer.id, numbers[0] as string, await api.tokens.reseller('r-else')))
        .status,
    ).toBe(404);
    expect((await release(api, customer.id, 'not-a-number')).status).toBe(400);
    expect(await snapshot(customer.id, numbers)).toEqual(before);
    expect(await table.customerDids(other.id)).toHaveLength(1);
  });
});

describe('disabling auto-provisioning', () => {
  it('keeps the numbers; offers and assignment answer 409; listing and release still work', async () => {
    const { customer, numbers } = await stockedCustomer(3);
    expect((await assign(api, customer.id, numbers.slice(0, 2))).status).toBe(201);
    const disabled = await patchPanel(api, api.tokens.admin, customer.id, {
      didAutoProvisioning: { enabled: false },
    });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);

    expect(await offers(api, customer.id, 'kind=local&country=DE')).toMatchObject({
      status: 409,
      body: { code: 'did_provisioning_disabled' },
    });
    const before = await snapshot(customer.id, numbers);
    expect(await assign(api, customer.id, [numbers[2]])).toMatchObject({
      status: 409,
      body: { code: 'did_provisioning_disabled' },
    });
    expect(await snapshot(customer.id, numbers)).toEqual(before);
    expect((await listDids(api, customer.id)).body.items).toHaveLength(2);
    expect((await release(api, customer.id, numbers[0] as string)).status).toBe(204);
    expect(await table.did(numbers[0] as string)).toMatchObject({ status: 'available' });
  });
});

describe('termination (§8)', () => {
  it('returns a terminated customer’s numbers to the inventory', async () => {
    const { customer, numbers } = await stockedCustomer(3);
    expect((await assign(api, customer.id, numbers)).status).toBe(201);

    const answer = await api.request('POST', `/customers/${customer.id}/terminate`, {
      token: api.tokens.admin,
    });
    expect(answer.status).toBe(200);
    await api.runtime.streamsIdle();

    for (const number of numbers) {
      expect(await table.did(number)).toMatchObject({
        status: 'available',
        customerId: null,
        releasedAt: expect.any(String),
      });
    }
    expect(await table.customerDids(customer.id)).toEqual([]);
    // Its charges are history, not undone.
    expect(await table.charges(customer.id)).toHaveLength(3);
  });

  it('returns the numbers of a branch its main office’s termination terminated', async () => {
    const batch = await createBatch(api);
    const numbers = freshNumbers(2);
    await importInto(
      api,
      batch.id,
      numbers.map((number) => inventoryEntry(number)),
    );
    const hq = await createMainOffice(api, api.tokens.admin);
    const branch = await provisionedCustomer(api, batch.id);
    expect((await linkBranch(api, api.tokens.admin, branch.id, hq.id)).status).toBe(200);
    expect((await assign(api, branch.id, numbers)).status).toBe(201);

    const answer = await api.request('POST', `/customers/${hq.id}/terminate`, {
      token: api.tokens.admin,
    });
    expect(answer.status).toBe(200);
    await api.runtime.streamsIdle();

    for (const number of numbers) {
      expect(await table.did(number)).toMatchObject({ status: 'available', customerId: null });
    }
    expect(await table.customerDids(branch.id)).toEqual([]);
  });
});
