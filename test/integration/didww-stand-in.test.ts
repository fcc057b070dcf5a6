import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DidwwStandIn,
  defaultStandInInventory,
  startDidwwStandIn,
} from '../../infra/local/didww-stand-in.js';
import type { DidProvider, ProviderNumber } from '../../lib/domain/dids/provider.js';
import { AppError } from '../../lib/errors.js';
import { createDidwwProvider } from '../../lib/providers/didww/adapter.js';

/**
 * The DIDWW adapter against the local stand-in (§8): the same code that talks to DIDWW
 * searches, orders and releases here, and every failure the stand-in can be told to
 * produce reaches the port as provider_error or provider_timeout.
 */

const mediaType = 'application/vnd.api+json';

let standIn: DidwwStandIn;
let provider: DidProvider;

const adapter = (options: { apiKey?: string; timeoutMillis?: number } = {}) =>
  createDidwwProvider({
    baseUrl: standIn.url,
    apiKey: options.apiKey ?? standIn.apiKey,
    timeoutMillis: options.timeoutMillis ?? 3_000,
  });

beforeAll(async () => {
  standIn = await startDidwwStandIn();
  provider = adapter();
});
afterEach(() => standIn.control.reset());
afterAll(async () => {
  await standIn?.stop();
});

const newYork = (limit = 20) =>
  provider.search({ kind: 'local', country: 'US', area: '212', limit });
const numbersOf = (offers: readonly ProviderNumber[]) => offers.map(({ number }) => number);
const heldNumbers = () =>
  standIn.control
    .owned()
    .filter(({ terminated }) => !terminated)
    .map(({ number }) => number);

async function failure(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

/** A raw request to the stand-in, as a client other than the adapter sends it. */
async function raw(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${standIn.url}/${path}`, {
    method,
    headers: {
      'Api-Key': standIn.apiKey,
      Accept: mediaType,
      ...(options.body !== undefined && { 'Content-Type': mediaType }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text ? JSON.parse(text) : undefined,
  };
}

describe('searching the stand-in', () => {
  it('offers numbers by kind, country and area, with their prices and an offer reference', async () => {
    const offers = await newYork();
    expect(offers).toHaveLength(10);
    for (const offer of offers) {
      expect(offer).toEqual({
        number: expect.stringMatching(/^\+1212\d{7}$/),
        kind: 'local',
        country: 'US',
        area: '212',
        activationCost: '0.5',
        recurringCost: '1.2',
        offerRef: expect.stringMatching(/^[0-9a-f-]{36}:[0-9a-f-]{36}$/),
      });
    }
    expect(await newYork(3)).toHaveLength(3);

    const tollFree = await provider.search({ kind: 'toll_free', country: 'US', limit: 20 });
    expect(tollFree).toHaveLength(5);
    expect(
      tollFree.every(({ kind, number }) => kind === 'toll_free' && number.startsWith('+1800')),
    ).toBe(true);
    const london = await provider.search({ kind: 'local', country: 'GB', area: '20', limit: 20 });
    expect(
      london.map(({ activationCost, recurringCost }) => [activationCost, recurringCost]),
    ).toEqual(Array(5).fill(['0', '0.9']));
    expect(await provider.search({ kind: 'toll_free', country: 'GB', limit: 20 })).toEqual([]);
    expect(await provider.search({ kind: 'local', country: 'US', area: '999', limit: 20 })).toEqual(
      [],
    );
    expect(await provider.search({ kind: 'local', country: 'FR', limit: 20 })).toEqual([]);
  });

  it('finds one offered number, and not one it does not offer', async () => {
    const [offer] = (await provider.search({ kind: 'toll_free', country: 'US', limit: 1 })) as [
      ProviderNumber,
    ];
    expect(await provider.find(offer.number)).toEqual(offer);
    expect(await provider.find('+12125550000')).toBeUndefined();
  });

  it('offers numbers seeded later', async () => {
    standIn.control.seed([
      {
        number: '+13125550100',
        kind: 'local',
        country: 'US',
        area: '312',
        setupPrice: '2.00',
        monthlyPrice: '3.10',
      },
    ]);
    expect(await provider.search({ kind: 'local', country: 'US', area: '312', limit: 5 })).toEqual([
      expect.objectContaining({
        number: '+13125550100',
        activationCost: '2',
        recurringCost: '3.1',
      }),
    ]);
  });
});

describe('ordering from the stand-in', () => {
  it('buys three numbers in one order and answers the DIDs on the account', async () => {
    const offers = await newYork(3);

    const ordered = await provider.order(offers, 'intent-order-3');

    expect(ordered.map(({ number }) => number)).toEqual(numbersOf(offers));
    const owned = standIn.control.owned();
    expect(owned).toHaveLength(3);
    expect(ordered.map(({ providerDidId }) => providerDidId).sort()).toEqual(
      owned.map(({ id }) => id).sort(),
    );
    for (const did of owned) expect(did.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(standIn.control.orders()).toEqual([
      expect.objectContaining({
        status: 'completed',
        externalReferenceId: 'intent-order-3',
        numbers: numbersOf(offers),
      }),
    ]);
    expect(standIn.control.reservations()).toEqual([]);
    // Bought numbers are no longer offered.
    const left = numbersOf(await newYork());
    expect(left).toHaveLength(7);
    for (const number of numbersOf(offers)) expect(left).not.toContain(number);
    expect(await provider.find(offers[0]?.number as string)).toBeUndefined();
  });

  it('fails an order with a number already taken and buys none of it', async () => {
    const [taken, free] = (await newYork(2)) as [ProviderNumber, ProviderNumber];
    await provider.order([taken], 'first');

    await failure(provider.order([free, taken], 'second'), 'provider_error');

    expect(heldNumbers()).toEqual([taken.number]);
    expect(standIn.control.reservations()).toEqual([]);
    expect(numbersOf(await newYork())).toContain(free.number);
  });

  it('gives a number ordered twice at once to one order only', async () => {
    const [contested] = (await newYork(1)) as [ProviderNumber];
    const outcomes = await Promise.allSettled([
      provider.order([contested], 'one'),
      provider.order([contested], 'two'),
    ]);
    expect(outcomes.map(({ status }) => status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(heldNumbers()).toEqual([contested.number]);
  });

  it('waits for a pending order to complete', async () => {
    const offers = await newYork(1);
    standIn.control.pendingPolls(2);
    const ordered = await provider.order(offers, 'pending');
    expect(ordered).toHaveLength(1);
    const orderId = standIn.control.orders()[0]?.id;
    expect(
      standIn.control
        .requests()
        .filter(({ method, path }) => method === 'GET' && path === `orders/${orderId}`),
    ).toHaveLength(3);
  });

  it('cancels an order pending past the bound, so nothing stays bought', async () => {
    const offers = await newYork(2);
    standIn.control.pendingPolls(1_000);
    await failure(adapter({ timeoutMillis: 1_000 }).order(offers, 'slow'), 'provider_timeout');
    expect(standIn.control.orders()).toEqual([expect.objectContaining({ status: 'canceled' })]);
    expect(heldNumbers()).toEqual([]);
    expect(numbersOf(await newYork())).toEqual(expect.arrayContaining(numbersOf(offers)));
  });

  it('deletes the reservations when the order fails', async () => {
    const offers = await newYork(3);
    standIn.control.failOn('POST', 'orders', 500);

    await failure(provider.order(offers, 'failing'), 'provider_error');

    expect(standIn.control.reservations()).toEqual([]);
    expect(standIn.control.owned()).toEqual([]);
    expect(standIn.control.orders()).toEqual([]);
    expect(
      standIn.control
        .requests()
        .filter(({ method }) => method === 'DELETE')
        .map(({ path }) => path),
    ).toHaveLength(3);
    // The numbers can be bought again.
    expect(await provider.order(offers, 'again')).toHaveLength(3);
  });
});

describe('holding and releasing at the stand-in', () => {
  it('finds a held DID by number and releases it, offering the number again', async () => {
    const [offer] = (await newYork(1)) as [ProviderNumber];
    const [did] = await provider.order([offer], 'hold');
    expect(await provider.findOwned(offer.number)).toEqual(did);

    await provider.release(did?.providerDidId as string);

    expect(standIn.control.owned()).toEqual([
      expect.objectContaining({ id: did?.providerDidId, number: offer.number, terminated: true }),
    ]);
    expect(await provider.findOwned(offer.number)).toBeUndefined();
    expect(numbersOf(await newYork())).toContain(offer.number);
    // Releasing again, or a DID the stand-in never had, succeeds.
    await provider.release(did?.providerDidId as string);
    await provider.release('00000000-0000-4000-8000-000000000000');
  });

  it('does not find a DID it does not hold', async () => {
    expect(await provider.findOwned('+12125550100')).toBeUndefined();
  });
});

describe('a failing stand-in', () => {
  it('answers provider_error for a failure it was told to produce, then serves again', async () => {
    standIn.control.failNext(1, 503);
    const error = await failure(newYork(), 'provider_error');
    expect(error.message).toContain('503');
    expect(await newYork()).toHaveLength(10);
  });

  it('answers provider_timeout within the bound when it does not answer', async () => {
    standIn.control.hangNext(1);
    const started = Date.now();
    await failure(
      adapter({ timeoutMillis: 300 }).search({ kind: 'local', country: 'US', limit: 1 }),
      'provider_timeout',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a wrong API key, which the adapter answers as provider_error', async () => {
    const error = await failure(
      adapter({ apiKey: 'not-the-key' }).search({ kind: 'local', country: 'US', limit: 1 }),
      'provider_error',
    );
    expect(error.message).toContain('401');
  });

  it('sees DIDWW’s headers on every request of the adapter', async () => {
    const offers = await newYork(1);
    const [did] = await provider.order(offers, 'headers');
    await provider.release(did?.providerDidId as string);

    const requests = standIn.control.requests();
    expect(new Set(requests.map(({ method }) => method))).toEqual(
      new Set(['GET', 'POST', 'PATCH']),
    );
    for (const { method, headers } of requests) {
      expect(headers['api-key']).toBe(standIn.apiKey);
      expect(headers['x-didww-api-version']).toBe('2026-04-16');
      expect(headers.accept).toBe(mediaType);
      if (method !== 'GET') expect(headers['content-type']).toBe(mediaType);
    }
  });
});

describe('the stand-in’s wire format', () => {
  it('answers refusals as JSON:API error documents', async () => {
    const noKey = await raw('GET', 'countries', { headers: { 'Api-Key': '' } });
    const wrongType = await raw('POST', 'did_reservations', {
      body: { data: { type: 'did_reservations' } },
      headers: { 'Content-Type': 'application/json' },
    });
    const unknownPath = await raw('GET', 'cdrs');
    const unknownFilter = await raw('GET', 'available_dids?filter[colour]=blue');
    for (const [answer, status] of [
      [noKey, 401],
      [wrongType, 415],
      [unknownPath, 404],
      [unknownFilter, 400],
    ] as const) {
      expect(answer.status).toBe(status);
      expect(answer.contentType).toBe(mediaType);
      expect(answer.body).toEqual({
        errors: [
          {
            title: expect.any(String),
            detail: expect.any(String),
            code: expect.any(String),
            status: String(status),
            ...(answer.body.errors[0].source && { source: expect.any(Object) }),
          },
        ],
      });
    }
  });

  it('links relationships and answers their data only when included', async () => {
    const plain = await raw('GET', 'available_dids');
    expect(plain.body.included).toBeUndefined();
    expect(plain.body.data[0].relationships.did_group).toEqual({ links: expect.any(Object) });

    const withGroups = await raw('GET', 'available_dids?include=did_group.stock_keeping_units');
    const group = withGroups.body.included.find(
      ({ type }: { type: string }) => type === 'did_groups',
    );
    expect(group.relationships.stock_keeping_units.data).toHaveLength(2);
    expect(group.relationships.country.data).toBeUndefined();
  });

  it('fails a whole order with a reservation no longer held, buying nothing', async () => {
    const available = (await raw('GET', 'available_dids?include=did_group.stock_keeping_units'))
      .body;
    const reserve = async (availableDidId: string) =>
      (
        await raw('POST', 'did_reservations', {
          body: {
            data: {
              type: 'did_reservations',
              relationships: {
                available_did: { data: { type: 'available_dids', id: availableDidId } },
              },
            },
          },
        })
      ).body.data.id as string;
    const first = await reserve(available.data[0].id);
    const second = await reserve(available.data[1].id);
    // Reserving a reserved number is refused as DIDWW does.
    const again = await raw('POST', 'did_reservations', {
      body: {
        data: {
          type: 'did_reservations',
          relationships: {
            available_did: { data: { type: 'available_dids', id: available.data[0].id } },
          },
        },
      },
    });
    expect(again.status).toBe(422);
    expect(again.body.errors[0].source).toEqual({ pointer: '/data/relationships/available_did' });
    expect((await raw('DELETE', `did_reservations/${second}`)).status).toBe(204);

    const skuId = available.included.find(
      ({ type }: { type: string }) => type === 'stock_keeping_units',
    ).id;
    const order = await raw('POST', 'orders', {
      body: {
        data: {
          type: 'orders',
          attributes: {
            allow_back_ordering: false,
            items: [first, second].map((reservationId) => ({
              type: 'did_order_items',
              attributes: { sku_id: skuId, did_reservation_id: reservationId },
            })),
          },
        },
      },
    });

    expect(order.status).toBe(422);
    expect(order.body.errors[0]).toMatchObject({
      code: '100',
      status: '422',
      source: { pointer: '/data/attributes/items/1/did_reservation_id' },
    });
    expect(standIn.control.orders()).toEqual([]);
    expect(standIn.control.owned()).toEqual([]);
    expect(standIn.control.reservations().map(({ id }) => id)).toEqual([first]);
  });

  it('stops promptly with a request left hanging', async () => {
    const other = await startDidwwStandIn({ inventory: defaultStandInInventory.slice(0, 1) });
    other.control.hangNext(1);
    const hanging = fetch(`${other.url}/countries`, { headers: { 'Api-Key': other.apiKey } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(hanging).rejects.toThrow();
  });
});
