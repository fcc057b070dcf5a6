import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DidwwStandIn } from '../../infra/local/didww-stand-in.js';
import { createDocumentClient } from '../../lib/data/client.js';
import { didOrders } from '../../lib/data/did-order.js';
import { didOrderKey } from '../../lib/data/keys.js';
import { getItem } from '../../lib/data/table.js';
import type { Caller } from '../../lib/domain/access.js';
import { assignDids } from '../../lib/domain/dids/assignment.js';
import type { DidProvider } from '../../lib/domain/dids/provider.js';
import { compensateOrder } from '../../lib/domain/dids/provider-orders.js';
import { didProvidersFromEnvironment } from '../../lib/providers/index.js';
import type { ServiceContext } from '../../lib/service-context.js';
import { markTerminated } from './support/customers.js';
import {
  assign,
  createBatch,
  listDids,
  offers,
  paidPricing,
  provisionedCustomer,
  release,
  type TableReader,
  tableReader,
} from './support/dids.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * Provider batches against the DIDWW stand-in, through the same adapter that talks to
 * DIDWW (§8): offers, orders, releases, every provider failure, and each point where a
 * request can die between the provider and the table.
 */

// The handlers' bound on a provider call: short, so a silent provider is a 504 quickly.
process.env.DIDWW_TIMEOUT_MS = '1500';

let api: TestApi;
let table: TableReader;
let standIn: DidwwStandIn;
let batchId: string;

beforeAll(async () => {
  api = await startTestApi();
  table = tableReader(api);
  standIn = api.runtime.didwwStandIn as DidwwStandIn;
  batchId = (
    await createBatch(api, { source: 'provider', provider: 'didww', pricing: paidPricing() })
  ).id;
});
afterEach(() => standIn.control.reset());
afterAll(async () => {
  table?.close();
  await api?.stop();
});

let areas = 300;

/**
 * Seeds `count` numbers in an area no other test uses (the stand-in's reset restores its
 * initial inventory, which earlier tests hold in the table) and answers them as offered.
 */
async function offeredNumbers(customerId: string, count: number): Promise<string[]> {
  const area = String(areas++);
  standIn.control.seed(
    Array.from({ length: count + 2 }, (_, index) => ({
      number: `+1${area}555${String(index).padStart(4, '0')}`,
      kind: 'local' as const,
      country: 'US',
      area,
      setupPrice: '0.50',
      monthlyPrice: '1.20',
    })),
  );
  const answer = await offers(api, customerId, `kind=local&country=US&area=${area}&limit=20`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const numbers = answer.body.items.map((offer: { number: string }) => offer.number);
  expect(numbers).toHaveLength(count + 2);
  return numbers.slice(0, count);
}

/** The numbers on our account at the provider, in E.164. */
const ownedAtProvider = () =>
  standIn.control
    .owned()
    .filter((did) => !did.terminated)
    .map((did) => `+${did.number.replace(/^\+/, '')}`);

/** Nothing of the call is left: no DID item, copy, charge, and nothing bought. */
async function expectNothingLeft(customerId: string, numbers: readonly string[]) {
  await api.runtime.streamsIdle();
  for (const number of numbers) expect(await table.did(number), number).toBeUndefined();
  expect(await table.customerDids(customerId)).toEqual([]);
  expect(await table.charges(customerId)).toEqual([]);
  for (const number of numbers) expect(ownedAtProvider()).not.toContain(number);
}

describe('a provider batch', () => {
  it('offers the provider’s numbers at the batch’s prices', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const answer = await offers(api, customer.id, 'kind=local&country=US&area=212&limit=3');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.nextCursor).toBeNull();
    expect(answer.body.items).toHaveLength(3);
    for (const offer of answer.body.items) {
      expect(offer).toEqual({
        number: expect.stringMatching(/^\+1212\d{7}$/),
        kind: 'local',
        country: 'US',
        area: '212',
        activationPrice: expect.stringMatching(/^\d+\.\d{2}$/),
        recurringPrice: expect.stringMatching(/^\d+\.\d{2}$/),
        currency: 'EUR',
      });
    }
    const tollFree = await offers(api, customer.id, 'kind=toll_free&country=US');
    expect(tollFree.body.items.length).toBeGreaterThan(0);
    expect(tollFree.body.items.every((offer: { kind: string }) => offer.kind === 'toll_free')).toBe(
      true,
    );
  });

  it('buys the numbers at the provider and assigns them with their charges', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);

    const answer = await assign(api, customer.id, numbers);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.assigned.map((did: { number: string }) => did.number)).toEqual(numbers);
    expect(ownedAtProvider()).toEqual(expect.arrayContaining(numbers));
    for (const number of numbers) {
      expect(await table.did(number)).toMatchObject({
        status: 'assigned',
        customerId: customer.id,
        source: 'provider',
        providerDidId: expect.any(String),
      });
    }
    expect(await table.charges(customer.id)).toHaveLength(2);
    expect((await listDids(api, customer.id)).body.items).toHaveLength(2);
    // The intent is completed: its expiry repairs nothing.
    await api.runtime.streamsIdle();
    expect(ownedAtProvider()).toEqual(expect.arrayContaining(numbers));
  });

  it('releases a given-up number at the provider, which offers it again', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const [number] = (await offeredNumbers(customer.id, 1)) as [string];
    expect((await assign(api, customer.id, [number])).status).toBe(201);

    expect((await release(api, customer.id, number)).status).toBe(204);
    await api.runtime.streamsIdle();

    expect(ownedAtProvider()).not.toContain(number);
    expect(await table.did(number)).toBeUndefined();
    expect(await table.customerDids(customer.id)).toEqual([]);
    const area = number.slice(2, 5);
    const again = await offers(api, customer.id, `kind=local&country=US&area=${area}&limit=100`);
    expect(again.body.items.map((offer: { number: string }) => offer.number)).toContain(number);
  });

  it('releases a terminated customer’s provider numbers', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    expect((await assign(api, customer.id, numbers)).status).toBe(201);

    const terminated = await api.request('POST', `/customers/${customer.id}/terminate`, {
      token: api.tokens.admin,
    });
    expect(terminated.status).toBe(200);
    await api.runtime.streamsIdle();

    for (const number of numbers) expect(ownedAtProvider()).not.toContain(number);
    expect(await table.customerDids(customer.id)).toEqual([]);
    // The activation charges stay.
    expect(await table.charges(customer.id)).toHaveLength(2);
  });

  it('gives a number grabbed by several customers at once to one of them', async () => {
    const rivals = await Promise.all(
      Array.from({ length: 5 }, () => provisionedCustomer(api, batchId)),
    );
    const [number] = (await offeredNumbers(rivals[0]?.id as string, 1)) as [string];

    const answers = await Promise.all(rivals.map((rival) => assign(api, rival.id, [number])));

    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses, JSON.stringify(answers.map((answer) => answer.body))).toEqual([
      201, 409, 409, 409, 409,
    ]);
    for (const answer of answers.filter(({ status }) => status === 409)) {
      expect(answer.body.code).toBe('did_unavailable');
    }
    await api.runtime.streamsIdle();
    const winner = rivals[answers.findIndex((answer) => answer.status === 201)];
    expect(await table.did(number)).toMatchObject({ status: 'assigned', customerId: winner?.id });
    expect(ownedAtProvider().filter((owned) => owned === number)).toHaveLength(1);
  });

  it('answers 409 did_unavailable for a number the provider does not offer, writing nothing', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const answer = await assign(api, customer.id, ['+12125550000']);
    expect(answer).toMatchObject({ status: 409, body: { code: 'did_unavailable' } });
    await expectNothingLeft(customer.id, ['+12125550000']);
  });
});

describe('provider failures', () => {
  it('answers 502 provider_error when the provider fails the search, writing nothing', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    standIn.control.failNext(1, 500);
    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({ status: 502, body: { code: 'provider_error' } });
    await expectNothingLeft(customer.id, numbers);

    standIn.control.failNext(1, 503);
    const failedOffers = await offers(api, customer.id, 'kind=local&country=US');
    expect(failedOffers).toMatchObject({ status: 502, body: { code: 'provider_error' } });
  });

  it('answers 502 when the order fails, and leaves no reservation, hold or intent to finish', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    standIn.control.failOn('POST', 'orders', 500);
    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({ status: 502, body: { code: 'provider_error' } });
    await expectNothingLeft(customer.id, numbers);
    expect(standIn.control.reservations()).toEqual([]);
    // The numbers can be taken again.
    expect((await assign(api, customer.id, numbers)).status).toBe(201);
  });

  it('answers 504 provider_timeout when the provider does not answer, writing nothing', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 1);
    standIn.control.hangNext(1);
    const started = Date.now();
    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({ status: 504, body: { code: 'provider_timeout' } });
    expect(Date.now() - started).toBeLessThan(8_000);
    await expectNothingLeft(customer.id, numbers);
  });

  it('answers 504 when an order stays pending past the bound, and nothing stays bought', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    standIn.control.pendingPolls(1_000);
    const answer = await assign(api, customer.id, numbers);
    expect(answer).toMatchObject({ status: 504, body: { code: 'provider_timeout' } });
    await expectNothingLeft(customer.id, numbers);
  });

  it('answers a concurrent request under the same key 409 request_in_progress while the order runs', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 1);
    const headers = { 'idempotency-key': `provider-${customer.id}` };
    standIn.control.pendingPolls(1);
    const first = assign(api, customer.id, numbers, { headers });
    // The first request holds the key once its intent is written; wait for it.
    for (let tries = 0; tries < 100 && !(await table.did(numbers[0] as string)); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await assign(api, customer.id, numbers, { headers });
    expect(second).toMatchObject({ status: 409, body: { code: 'request_in_progress' } });
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(201);
    const replay = await assign(api, customer.id, numbers, { headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(firstAnswer.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await table.charges(customer.id)).toHaveLength(1);
  });
});

/**
 * A request that dies at each point of a provider order, driven by calling the service
 * with a provider that stops where the request would die. Its intent is repaired by
 * the stream when it expires (the runtime deletes expired items as DynamoDB's TTL does).
 */
describe('crash points of a provider order', () => {
  const admin: Caller = { role: 'admin' };
  const never = new Promise<never>(() => {});

  function contextWith(provider: (real: DidProvider) => DidProvider): ServiceContext {
    const real = didProvidersFromEnvironment()('didww');
    return {
      db: {
        client: createDocumentClient(api.runtime.dynamodbEndpoint),
        tableName: api.runtime.tableName,
      },
      now: () => new Date(),
      newId: () => `crash-${Math.random().toString(36).slice(2)}`,
      didProviders: () => provider(real),
    };
  }

  /** The intent's expiry, as DynamoDB's TTL does it, and the consumer's repair. */
  async function expireIntents() {
    await api.runtime.streamsIdle();
    const later = new Date(Date.now() + 60 * 60 * 1000);
    expect(await api.runtime.deleteExpiredItems(later)).toBeGreaterThan(0);
    await api.runtime.streamsIdle();
  }

  /** Starts the assignment and abandons it: its provider never lets it finish. */
  async function dyingAssignment(ctx: ServiceContext, customerId: string, numbers: string[]) {
    void assignDids(ctx, admin, customerId, numbers).catch(() => {});
  }

  it('repairs a request that died after writing its intent, before the order', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    const { promise: ordering, resolve: reached } = Promise.withResolvers<void>();
    const ctx = contextWith((real) => ({
      ...real,
      order: () => {
        reached();
        return never;
      },
    }));
    await dyingAssignment(ctx, customer.id, numbers);
    await ordering;
    for (const number of numbers) {
      expect(await table.did(number)).toMatchObject({ status: 'ordering' });
    }

    await expireIntents();
    await expectNothingLeft(customer.id, numbers);
    expect((await assign(api, customer.id, numbers)).status).toBe(201);
  });

  it('repairs a request that died after the provider sold the numbers, before assigning them', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    const { promise: sold, resolve: bought } = Promise.withResolvers<void>();
    const ctx = contextWith((real) => ({
      ...real,
      order: async (offered, reference) => {
        await real.order(offered, reference);
        bought();
        return never;
      },
    }));
    await dyingAssignment(ctx, customer.id, numbers);
    await sold;
    expect(ownedAtProvider()).toEqual(expect.arrayContaining(numbers));

    await expireIntents();
    await expectNothingLeft(customer.id, numbers);
  });

  it('assigns nothing when a request outlives the repair of its intent', async () => {
    // A Lambda is stopped after 28 s and the repair waits 5 minutes, so this needs a
    // request frozen past its bound; the completion's conditions still keep the table right.
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    const { promise: gate, resolve: resume } = Promise.withResolvers<void>();
    const { promise: reached, resolve: ordering } = Promise.withResolvers<void>();
    const ctx = contextWith((real) => ({
      ...real,
      order: async (offered, reference) => {
        ordering();
        await gate;
        return real.order(offered, reference);
      },
    }));
    const late = assignDids(ctx, admin, customer.id, numbers);
    late.catch(() => {});
    await reached;

    await expireIntents();
    resume();

    await expect(late).rejects.toThrow();
    await api.runtime.streamsIdle();
    for (const number of numbers) expect(await table.did(number), number).toBeUndefined();
    expect(await table.customerDids(customer.id)).toEqual([]);
    expect(await table.charges(customer.id)).toEqual([]);
  });

  it('releases what it bought when the assignment loses to a termination after the order', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    const ctx = contextWith((real) => ({
      ...real,
      order: async (offered, reference) => {
        const ordered = await real.order(offered, reference);
        await markTerminated(api, customer.id);
        return ordered;
      },
    }));
    await expect(assignDids(ctx, admin, customer.id, numbers)).rejects.toMatchObject({
      code: 'customer_terminated',
    });
    await expectNothingLeft(customer.id, numbers);
  });

  it('repeats a compensation that died half-way without releasing anything twice', async () => {
    const customer = await provisionedCustomer(api, batchId);
    const numbers = await offeredNumbers(customer.id, 2);
    let orderId = '';
    const { promise: sold, resolve: bought } = Promise.withResolvers<void>();
    const ctx = contextWith((real) => ({
      ...real,
      order: async (offered, reference) => {
        orderId = reference;
        await real.order(offered, reference);
        bought();
        return never;
      },
    }));
    await dyingAssignment(ctx, customer.id, numbers);
    await sold;
    const intent = didOrders.parse(
      (await getItem(ctx.db, didOrderKey(orderId))) as Record<string, unknown>,
    );
    // The first run dies after releasing the first number at the provider.
    let releases = 0;
    const dying = contextWith((real) => ({
      ...real,
      release: async (id) => {
        await real.release(id);
        releases += 1;
        if (releases === 1) throw new Error('the consumer died here');
      },
    }));
    await expect(compensateOrder(dying, intent)).rejects.toThrow('died');
    await compensateOrder(
      contextWith((real) => real),
      intent,
    );
    await compensateOrder(
      contextWith((real) => real),
      intent,
    );

    await expectNothingLeft(customer.id, numbers);
    expect(await getItem(ctx.db, didOrderKey(orderId))).toMatchObject({ status: 'compensated' });
  });
});
