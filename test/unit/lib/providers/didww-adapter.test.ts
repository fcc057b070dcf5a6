import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ProviderNumber } from '../../../../lib/domain/dids/provider.js';
import { AppError } from '../../../../lib/errors.js';
import { createDidwwProvider } from '../../../../lib/providers/didww/adapter.js';

/**
 * The DIDWW adapter against a fake `fetch` answering bodies recorded in DIDWW's shape
 * (test/fixtures/didww, modelled on DIDWW's SDK fixtures): what it sends for each call
 * and how it reads, and refuses, what DIDWW answers.
 */

const baseUrl = 'https://sandbox-api.didww.com/v3';
const apiKey = 'test-api-key';
const mediaType = 'application/vnd.api+json';

const usId = '1f6fc2bd-f081-4202-9b1a-d9cb88d942b9';
const localTypeId = '994ea201-4a4d-4b27-ac4b-b5916ac969a3';
const groupId = 'a9e3d346-d7bc-4a85-adb0-8ef1119cf237';
const otherGroupId = '7156eea4-09af-4f82-a43e-3b572f9927d8';
const channelFreeSkuId = 'bdff43ad-2db8-428c-a65c-f2d4d43720b6';
const firstAvailableId = '0b76223b-9625-412f-b0f3-330551473e7e';
const secondAvailableId = 'b6db898e-5c40-40b2-9ee8-3847d5345435';
const orderId = 'a9a7ff2d-d634-4545-bf28-dfda92d1c723';
const firstDidId = '9df99644-f1a5-4a3c-99a4-559d758eb96b';
const secondDidId = '9467643f-8fbc-4e25-9818-59f8ccfb915a';

/** A fresh copy of a recorded body, so a test may change it. */
const recorded = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/didww/${name}`, import.meta.url), 'utf8'));

const answer = (status: number, body?: unknown, contentType = mediaType): Response =>
  new Response(body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': contentType },
  });

interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

type Answer = (request: SentRequest, signal: AbortSignal) => Response | Promise<Response>;

/**
 * A fake DIDWW: answers by `METHOD path` (below /v3, `{id}` for any id segment); a list of
 * answers is served in turn. What nothing answers is a 404 error document.
 */
function fakeDidww(answers: Record<string, Answer | Answer[]>) {
  const sent: SentRequest[] = [];
  const turns = new Map<string, number>();
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname.slice(0, 3)).toBe(baseUrl);
    const path = parsed.pathname.slice('/v3/'.length);
    const request: SentRequest = {
      method: init.method ?? 'GET',
      path,
      query: Object.fromEntries(parsed.searchParams),
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
    };
    sent.push(request);
    const route = `${request.method} ${path.replace(/\/[^/]+$/, '/{id}')}`;
    const entry = answers[route];
    const turn = turns.get(route) ?? 0;
    turns.set(route, turn + 1);
    const respond = Array.isArray(entry) ? entry[Math.min(turn, entry.length - 1)] : entry;
    if (!respond) return answer(404, recorded('error-not-found.json'));
    return respond(request, init.signal as AbortSignal);
  };
  return {
    provider: (timeoutMillis = 2_000) =>
      createDidwwProvider({ baseUrl, apiKey, timeoutMillis, fetch }),
    sent,
    calls: () => sent.map(({ method, path }) => `${method} ${path}`),
  };
}

const catalogue = {
  'GET countries': () => answer(200, recorded('countries.json')),
  'GET did_group_types': () => answer(200, recorded('did-group-types.json')),
  'GET did_groups': () => answer(200, recorded('did-groups.json')),
  'GET did_groups/{id}': () => answer(200, recorded('did-group.json')),
  'GET available_dids': () => answer(200, recorded('available-dids.json')),
};

const firstOffer: ProviderNumber = {
  number: '+12125550101',
  kind: 'local',
  country: 'US',
  area: '212',
  activationCost: '0.5',
  recurringCost: '0.09',
  offerRef: `${firstAvailableId}:${channelFreeSkuId}`,
};
const secondOffer: ProviderNumber = {
  ...firstOffer,
  number: '+12125550102',
  offerRef: `${secondAvailableId}:${channelFreeSkuId}`,
};

/** DIDWW's answers to a reservation: each its own id. */
const reservations = () => {
  let count = 0;
  return () => {
    const document = recorded('did-reservation.json') as { data: { id: string } };
    document.data.id = `reservation-${++count}`;
    return answer(201, document);
  };
};

async function providerError(
  promise: Promise<unknown>,
  code = 'provider_error',
): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}

describe('the DIDWW adapter searching', () => {
  it('resolves the country and type, narrows to the area’s groups and reads available_dids', async () => {
    const didww = fakeDidww(catalogue);

    const offers = await didww
      .provider()
      .search({ kind: 'local', country: 'US', area: '212', limit: 5 });

    expect(offers).toEqual([firstOffer, secondOffer]);
    expect(didww.sent.map(({ method, path, query }) => ({ method, path, query }))).toEqual([
      { method: 'GET', path: 'countries', query: { 'filter[iso]': 'US' } },
      { method: 'GET', path: 'did_group_types', query: {} },
      {
        method: 'GET',
        path: 'did_groups',
        query: {
          'filter[country.id]': usId,
          'filter[did_group_type.id]': localTypeId,
          'filter[prefix]': '212',
          'page[size]': '100',
        },
      },
      {
        method: 'GET',
        path: 'available_dids',
        query: {
          'filter[country.id]': usId,
          'filter[did_group_type.id]': localTypeId,
          'filter[did_group.id]': `${groupId},${otherGroupId}`,
          include: 'did_group.stock_keeping_units',
        },
      },
    ]);
    for (const { headers, body } of didww.sent) {
      expect(headers).toEqual({
        'api-key': apiKey,
        'x-didww-api-version': '2026-04-16',
        accept: mediaType,
      });
      expect(body).toBeUndefined();
    }
  });

  it('answers at most `limit` offers and looks the catalogue up once per adapter', async () => {
    const didww = fakeDidww(catalogue);
    const provider = didww.provider();

    expect(await provider.search({ kind: 'local', country: 'US', limit: 1 })).toEqual([firstOffer]);
    await provider.search({ kind: 'local', country: 'US', limit: 1 });

    // Without an area, no DID groups are read; the second search reads only the numbers.
    expect(didww.calls()).toEqual([
      'GET countries',
      'GET did_group_types',
      'GET available_dids',
      'GET available_dids',
    ]);
  });

  it('answers no offers for a country DIDWW does not list or an area without groups', async () => {
    const didww = fakeDidww({
      ...catalogue,
      'GET countries': () => answer(200, { data: [] }),
    });
    expect(await didww.provider().search({ kind: 'local', country: 'ZZ', limit: 5 })).toEqual([]);
    expect(didww.calls()).toEqual(['GET countries']);

    const noGroups = fakeDidww({ ...catalogue, 'GET did_groups': () => answer(200, { data: [] }) });
    expect(
      await noGroups.provider().search({ kind: 'local', country: 'US', area: '999', limit: 5 }),
    ).toEqual([]);
    expect(noGroups.calls()).not.toContain('GET available_dids');
  });

  it('finds one exact number with its group’s country and type', async () => {
    const didww = fakeDidww(catalogue);

    expect(await didww.provider().find('+12125550102')).toEqual(secondOffer);
    expect(didww.sent.map(({ path, query }) => ({ path, query }))).toEqual([
      {
        path: 'available_dids',
        query: {
          'filter[number_contains]': '12125550102',
          include: 'did_group.stock_keeping_units',
        },
      },
      { path: `did_groups/${groupId}`, query: { include: 'country,did_group_type' } },
    ]);
  });

  it('does not find a number DIDWW answers only as part of longer ones', async () => {
    const didww = fakeDidww(catalogue);
    expect(await didww.provider().find('+1212555010')).toBeUndefined();
  });
});

describe('the DIDWW adapter ordering', () => {
  it('reserves each number, orders the reservations without back-ordering and reads the DIDs', async () => {
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, recorded('order-created.json')),
      'GET orders/{id}': () => answer(200, recorded('order-completed.json')),
      'GET dids': () => answer(200, recorded('dids.json')),
    });

    const ordered = await didww.provider().order([firstOffer, secondOffer], 'intent-1');

    expect(ordered).toEqual([
      { number: '+12125550101', providerDidId: firstDidId },
      { number: '+12125550102', providerDidId: secondDidId },
    ]);
    expect(didww.calls()).toEqual([
      'POST did_reservations',
      'POST did_reservations',
      'POST orders',
      `GET orders/${orderId}`,
      'GET dids',
    ]);
    const [firstReservation, secondReservation, order, , dids] = didww.sent as [
      SentRequest,
      SentRequest,
      SentRequest,
      SentRequest,
      SentRequest,
    ];
    expect([firstReservation.body, secondReservation.body]).toEqual(
      [firstAvailableId, secondAvailableId].map((id) => ({
        data: {
          type: 'did_reservations',
          attributes: { description: 'intent-1' },
          relationships: { available_did: { data: { type: 'available_dids', id } } },
        },
      })),
    );
    expect(firstReservation.headers['content-type']).toBe(mediaType);
    expect(order.headers['content-type']).toBe(mediaType);
    expect(order.body).toEqual({
      data: {
        type: 'orders',
        attributes: {
          allow_back_ordering: false,
          external_reference_id: 'intent-1',
          items: [
            {
              type: 'did_order_items',
              attributes: { sku_id: channelFreeSkuId, did_reservation_id: 'reservation-1' },
            },
            {
              type: 'did_order_items',
              attributes: { sku_id: channelFreeSkuId, did_reservation_id: 'reservation-2' },
            },
          ],
        },
      },
    });
    expect(dids.query).toEqual({
      'filter[order.id]': orderId,
      'page[size]': '100',
      'page[number]': '1',
    });
  });

  it('waits while the order is pending and polls until it completes', async () => {
    const pending = () => answer(200, recorded('order-created.json'));
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, recorded('order-created.json')),
      'GET orders/{id}': [pending, pending, () => answer(200, recorded('order-completed.json'))],
      'GET dids': () => answer(200, recorded('dids.json')),
    });

    await didww.provider(5_000).order([firstOffer], 'intent-1');

    expect(didww.calls().filter((call) => call === `GET orders/${orderId}`)).toHaveLength(3);
  });

  it('reads the capitalised status of older API versions', async () => {
    const completed = recorded('order-created.json') as {
      data: { attributes: { status: string } };
    };
    completed.data.attributes.status = 'Completed';
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, completed),
      'GET dids': () => answer(200, recorded('dids.json')),
    });
    expect(await didww.provider().order([firstOffer], 'intent-1')).toEqual([
      { number: '+12125550101', providerDidId: firstDidId },
    ]);
  });

  it('fails with provider_error when DIDWW cancels the order', async () => {
    const canceled = recorded('order-completed.json') as {
      data: { attributes: { status: string } };
    };
    canceled.data.attributes.status = 'canceled';
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, recorded('order-created.json')),
      'GET orders/{id}': () => answer(200, canceled),
    });

    const error = await providerError(didww.provider().order([firstOffer], 'intent-1'));
    expect(error.status).toBe(502);
    expect(didww.calls()).not.toContain('GET dids');
  });

  it('cancels an order still pending at the bound and fails with provider_timeout', async () => {
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, recorded('order-created.json')),
      'GET orders/{id}': () => answer(200, recorded('order-created.json')),
      'DELETE orders/{id}': () => answer(204),
    });

    const error = await providerError(
      didww.provider(600).order([firstOffer], 'intent-1'),
      'provider_timeout',
    );
    expect(error.status).toBe(504);
    expect(didww.calls().at(-1)).toBe(`DELETE orders/${orderId}`);
  });

  it('deletes the reservations when the order is refused, and fails with provider_error', async () => {
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(422, recorded('error-unavailable.json')),
      'DELETE did_reservations/{id}': () => answer(204),
    });

    const error = await providerError(
      didww.provider().order([firstOffer, secondOffer], 'intent-1'),
    );
    expect(error.status).toBe(502);
    expect(error.message).toContain('exceeds available DIDs count');
    expect(
      didww
        .calls()
        .filter((call) => call.startsWith('DELETE'))
        .sort(),
    ).toEqual(['DELETE did_reservations/reservation-1', 'DELETE did_reservations/reservation-2']);
  });

  it('deletes the reservations made when a later one is refused, ordering nothing', async () => {
    const reserve = reservations();
    const didww = fakeDidww({
      'POST did_reservations': [
        reserve,
        () =>
          answer(422, {
            errors: [
              {
                title: 'is invalid',
                detail: 'available_did - is invalid',
                code: '100',
                source: { pointer: '/data/relationships/available_did' },
                status: '422',
              },
            ],
          }),
      ],
      'DELETE did_reservations/{id}': () => answer(204),
    });

    await providerError(didww.provider().order([firstOffer, secondOffer], 'intent-1'));
    expect(didww.calls()).not.toContain('POST orders');
    expect(didww.calls()).toContain('DELETE did_reservations/reservation-1');
  });

  it('fails with provider_error when the completed order lacks a DID', async () => {
    const oneDid = recorded('dids.json') as { data: unknown[] };
    oneDid.data = oneDid.data.slice(1);
    const didww = fakeDidww({
      'POST did_reservations': reservations(),
      'POST orders': () => answer(201, recorded('order-completed.json')),
      'GET dids': () => answer(200, oneDid),
    });
    const error = await providerError(
      didww.provider().order([firstOffer, secondOffer], 'intent-1'),
    );
    expect(error.message).toContain('+12125550101');
  });

  it('refuses an offer reference it did not make', async () => {
    const didww = fakeDidww({});
    await providerError(didww.provider().order([{ ...firstOffer, offerRef: 'nonsense' }], 'x'));
    expect(didww.sent).toEqual([]);
  });
});

describe('the DIDWW adapter holding and releasing', () => {
  it('finds a DID we hold by its number', async () => {
    const didww = fakeDidww({ 'GET dids': () => answer(200, recorded('dids.json')) });

    expect(await didww.provider().findOwned('+12125550102')).toEqual({
      number: '+12125550102',
      providerDidId: secondDidId,
    });
    expect(didww.sent[0]?.query).toEqual({
      'filter[number]': '12125550102',
      'filter[terminated]': 'false',
    });
    const none = fakeDidww({ 'GET dids': () => answer(200, { data: [] }) });
    expect(await none.provider().findOwned('+12125550102')).toBeUndefined();
  });

  it('releases a DID by terminating it', async () => {
    const didww = fakeDidww({
      'PATCH dids/{id}': () => answer(200, recorded('did-terminated.json')),
    });

    await didww.provider().release(firstDidId);

    expect(didww.sent).toEqual([
      {
        method: 'PATCH',
        path: `dids/${firstDidId}`,
        query: {},
        headers: {
          'api-key': apiKey,
          'x-didww-api-version': '2026-04-16',
          accept: mediaType,
          'content-type': mediaType,
        },
        body: { data: { type: 'dids', id: firstDidId, attributes: { terminated: true } } },
      },
    ]);
  });

  it('counts a DID DIDWW does not know as released', async () => {
    const didww = fakeDidww({
      'PATCH dids/{id}': () => answer(404, recorded('error-not-found.json')),
    });
    await expect(didww.provider().release(firstDidId)).resolves.toBeUndefined();
  });

  it('fails when DIDWW answers the DID still not terminated, or an error', async () => {
    const notTerminated = recorded('did-terminated.json') as {
      data: { attributes: { terminated: boolean } };
    };
    notTerminated.data.attributes.terminated = false;
    await providerError(
      fakeDidww({ 'PATCH dids/{id}': () => answer(200, notTerminated) })
        .provider()
        .release(firstDidId),
    );
    await providerError(
      fakeDidww({
        'PATCH dids/{id}': () =>
          answer(500, { errors: [{ title: 'Internal server error', status: '500' }] }),
      })
        .provider()
        .release(firstDidId),
    );
  });
});

describe('the DIDWW adapter on a failing DIDWW', () => {
  it('turns an error document into provider_error (502) carrying its title and detail', async () => {
    const didww = fakeDidww({
      'GET countries': () => answer(422, recorded('error-unavailable.json')),
    });
    const error = await providerError(
      didww.provider().search({ kind: 'local', country: 'US', limit: 1 }),
    );
    expect(error.status).toBe(502);
    expect(error.message).toContain('422');
    expect(error.message).toContain('items/0/qty - exceeds available DIDs count');
  });

  it('treats an error document even with a 2xx status as an error', async () => {
    const didww = fakeDidww({
      'GET countries': () => answer(200, recorded('error-unavailable.json')),
    });
    await providerError(didww.provider().search({ kind: 'local', country: 'US', limit: 1 }));
  });

  it('refuses a body that is not JSON or not in DIDWW’s shape', async () => {
    const search = (body: unknown, contentType?: string) =>
      fakeDidww({ ...catalogue, 'GET available_dids': () => answer(200, body, contentType) })
        .provider()
        .search({ kind: 'local', country: 'US', limit: 1 });

    await providerError(search('<html>gateway</html>', 'text/html'));
    await providerError(search({ meta: {} }));
    await providerError(
      search({ data: [{ type: 'available_dids', attributes: { number: '1' } }] }),
    );

    const noIncludes = recorded('available-dids.json');
    delete noIncludes.included;
    await providerError(search(noIncludes));

    const badPrice = recorded('available-dids.json') as {
      included: { type: string; attributes: Record<string, unknown> }[];
    };
    for (const resource of badPrice.included) {
      if (resource.type === 'stock_keeping_units') resource.attributes.setup_price = '-1';
    }
    await providerError(search(badPrice));

    const badNumber = recorded('available-dids.json') as {
      data: { attributes: { number: string } }[];
    };
    (badNumber.data[0] as { attributes: { number: string } }).attributes.number = '+1 212 555';
    await providerError(search(badNumber));
  });

  it('answers provider_timeout when DIDWW does not answer within the bound', async () => {
    const silent: Answer = (_request, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const didww = fakeDidww({ 'GET countries': silent });

    const started = Date.now();
    const error = await providerError(
      didww.provider(100).search({ kind: 'local', country: 'US', limit: 1 }),
      'provider_timeout',
    );
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('answers provider_error when DIDWW refuses the connection', async () => {
    // A port that was free a moment ago: nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const provider = createDidwwProvider({
      baseUrl: `http://127.0.0.1:${port}/v3`,
      apiKey,
      timeoutMillis: 2_000,
    });
    const error = await providerError(provider.search({ kind: 'local', country: 'US', limit: 1 }));
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('refuses a time bound above 10 s', () => {
    expect(() => createDidwwProvider({ baseUrl, apiKey, timeoutMillis: 10_001 })).toThrow(
      RangeError,
    );
  });
});
