import { setTimeout as sleep } from 'node:timers/promises';
import { boundedAll } from '../../concurrency.js';
import type {
  DidProvider,
  OrderedDid,
  ProviderNumber,
  ProviderSearch,
} from '../../domain/dids/provider.js';
import { AppError } from '../../errors.js';
import type { DidKind } from '../../schemas/did-batches.js';
import { e164Schema } from '../../schemas/phone-lines.js';
import {
  createDidwwSend,
  Deadline,
  DidwwAnswerError,
  type DidwwRequest,
  type FetchFunction,
} from './client.js';
import {
  attributesOf,
  availableDidAttributesSchema,
  type CollectionDocument,
  collectionDocumentSchema,
  countryAttributesSchema,
  didAttributesSchema,
  didGroupAttributesSchema,
  didGroupTypeAttributesSchema,
  includedOf,
  orderAttributesSchema,
  orderRequest,
  parseWire,
  relatedIds,
  reservationRequest,
  type SingleDocument,
  singleDocumentSchema,
  stockKeepingUnitAttributesSchema,
  terminationRequest,
} from './wire.js';

export interface DidwwProviderOptions {
  /** DIDWW's base URL ending in `/v3`, e.g. https://sandbox-api.didww.com/v3. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** The bound on one port call, all its requests together (§8: at most 10 s). */
  readonly timeoutMillis?: number;
  readonly fetch?: FetchFunction;
}

export const maxTimeoutMillis = 10_000;

/** DIDWW's DID group type of each kind we sell (its other types: National, Mobile, Shared Cost, Global). */
const groupTypeNames: Readonly<Record<DidKind, string>> = {
  local: 'Local',
  toll_free: 'Toll-free',
};

const reservationsInFlight = 4;
/** DIDWW pages lists by `page[size]` up to 100. */
const pageSize = 100;
const firstPollMillis = 250;
const maxPollMillis = 1_000;
/**
 * Undoing after a failure (deleting reservations, cancelling a pending order) has a short
 * bound of its own rather than prolonging a failing call: reservations lapse by themselves
 * after 10 minutes, and a DID that arrives anyway is found by `findOwned`.
 */
const compensationMillis = 2_000;

interface Offer {
  readonly number: string;
  readonly area: string | null;
  readonly activationCost: string;
  readonly recurringCost: string;
  readonly offerRef: string;
  readonly groupId: string;
}

interface GroupFacts {
  readonly country: string;
  readonly kind: DidKind;
}

/**
 * The DIDWW API v3 adapter of the DID provider port (§8). Searching resolves the ISO
 * country and our kind to DIDWW's ids (looked up once per adapter), narrows to the DID
 * groups of an area (their `prefix`, the area code) and reads `available_dids` with their
 * groups' stock keeping units. Ordering reserves each number, orders all reservations in
 * one order without back-ordering, waits for it to complete and reads the DIDs it put on
 * the account. Releasing terminates the DID.
 */
export function createDidwwProvider(options: DidwwProviderOptions): DidProvider {
  const timeoutMillis = options.timeoutMillis ?? maxTimeoutMillis;
  if (!(timeoutMillis > 0 && timeoutMillis <= maxTimeoutMillis)) {
    throw new RangeError(`timeoutMillis must be above 0 and at most ${maxTimeoutMillis}`);
  }
  const send = createDidwwSend({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    fetch: options.fetch ?? fetch,
  });
  const callDeadline = () => Deadline.after(timeoutMillis);

  const getCollection = async (
    path: string,
    query: Record<string, string>,
    deadline: Deadline,
  ): Promise<CollectionDocument> =>
    parseWire(
      collectionDocumentSchema,
      await send({ method: 'GET', path, query }, deadline),
      `GET /${path}`,
    );
  const sendForOne = async (request: DidwwRequest, deadline: Deadline): Promise<SingleDocument> =>
    parseWire(
      singleDocumentSchema,
      await send(request, deadline),
      `${request.method} /${request.path}`,
    );
  /** Best effort, all at once; what fails is left to lapse (see compensationMillis). */
  const compensate = async (requests: readonly DidwwRequest[]): Promise<void> => {
    const deadline = Deadline.after(Math.min(timeoutMillis, compensationMillis));
    await Promise.allSettled(requests.map((request) => send(request, deadline)));
  };

  // DIDWW's catalogue ids, stable for an adapter's life; null caches "DIDWW has none".
  const countryIds = new Map<string, string | null>();
  let groupTypeIds: ReadonlyMap<string, string> | undefined;
  const groupFacts = new Map<string, GroupFacts | null>();

  async function countryIdOf(iso: string, deadline: Deadline): Promise<string | null> {
    const cached = countryIds.get(iso);
    if (cached !== undefined) return cached;
    const countries = await getCollection('countries', { 'filter[iso]': iso }, deadline);
    const country = countries.data.find(
      (resource) => attributesOf(resource, countryAttributesSchema).iso.toUpperCase() === iso,
    );
    countryIds.set(iso, country?.id ?? null);
    return country?.id ?? null;
  }

  async function groupTypeIdOf(kind: DidKind, deadline: Deadline): Promise<string> {
    if (!groupTypeIds) {
      const types = await getCollection('did_group_types', {}, deadline);
      groupTypeIds = new Map(
        types.data.map((resource) => [
          attributesOf(resource, didGroupTypeAttributesSchema).name.toLowerCase(),
          resource.id,
        ]),
      );
    }
    const id = groupTypeIds.get(groupTypeNames[kind].toLowerCase());
    if (!id) {
      throw new AppError(
        'provider_error',
        `DIDWW lists no DID group type ${groupTypeNames[kind]}.`,
      );
    }
    return id;
  }

  /** The country and kind of a DID group, or null when its type is not one we sell. */
  async function groupFactsOf(groupId: string, deadline: Deadline): Promise<GroupFacts | null> {
    const cached = groupFacts.get(groupId);
    if (cached !== undefined) return cached;
    const document = await sendForOne(
      {
        method: 'GET',
        path: `did_groups/${encodeURIComponent(groupId)}`,
        query: { include: 'country,did_group_type' },
      },
      deadline,
    );
    const included = includedOf(document);
    const country = relatedIds(document.data, 'country').map((id) => included('countries', id))[0];
    const type = relatedIds(document.data, 'did_group_type').map((id) =>
      included('did_group_types', id),
    )[0];
    if (!country || !type) {
      throw new AppError(
        'provider_error',
        `DIDWW answered DID group ${groupId} without its country or DID group type.`,
      );
    }
    const typeName = attributesOf(type, didGroupTypeAttributesSchema).name.toLowerCase();
    const kind = (Object.keys(groupTypeNames) as DidKind[]).find(
      (candidate) => groupTypeNames[candidate].toLowerCase() === typeName,
    );
    const facts = kind
      ? { country: attributesOf(country, countryAttributesSchema).iso.toUpperCase(), kind }
      : null;
    groupFacts.set(groupId, facts);
    return facts;
  }

  async function awaitCompletion(
    orderId: string,
    initialStatus: string,
    deadline: Deadline,
  ): Promise<void> {
    let status = initialStatus;
    let pause = firstPollMillis;
    try {
      while (status === 'pending') {
        if (deadline.remaining() <= pause) {
          throw new AppError(
            'provider_timeout',
            `DIDWW order ${orderId} was still pending after ${timeoutMillis} ms; the adapter asked DIDWW to cancel it.`,
          );
        }
        await sleep(pause);
        pause = Math.min(pause * 2, maxPollMillis);
        const order = await sendForOne(
          { method: 'GET', path: `orders/${encodeURIComponent(orderId)}` },
          deadline,
        );
        status = attributesOf(order.data, orderAttributesSchema).status;
      }
    } catch (error) {
      await compensate([{ method: 'DELETE', path: `orders/${encodeURIComponent(orderId)}` }]);
      throw error;
    }
    if (status === 'canceled') {
      throw new AppError('provider_error', `DIDWW cancelled order ${orderId}; nothing was bought.`);
    }
  }

  /** The DIDs an order put on the account, in the order of `numbers`; all of them, or provider_error. */
  async function orderedDids(
    orderId: string,
    numbers: readonly ProviderNumber[],
    deadline: Deadline,
  ): Promise<OrderedDid[]> {
    const wanted = new Set(numbers.map(({ number }) => digitsOf(number)));
    const didIds = new Map<string, string>();
    for (let page = 1; didIds.size < wanted.size; page++) {
      const dids = await getCollection(
        'dids',
        {
          'filter[order.id]': orderId,
          'page[size]': String(pageSize),
          'page[number]': String(page),
        },
        deadline,
      );
      for (const did of dids.data) {
        const { number } = attributesOf(did, didAttributesSchema);
        if (wanted.has(number)) didIds.set(number, did.id);
      }
      if (dids.data.length < pageSize) break;
    }
    const missing = numbers.filter(({ number }) => !didIds.has(digitsOf(number)));
    if (missing.length > 0) {
      throw new AppError(
        'provider_error',
        `DIDWW order ${orderId} completed without the DIDs ${missing.map(({ number }) => number).join(', ')}.`,
      );
    }
    return numbers.map(({ number }) => ({
      number,
      providerDidId: didIds.get(digitsOf(number)) as string,
    }));
  }

  return {
    async search({ kind, country, area, limit }: ProviderSearch): Promise<ProviderNumber[]> {
      const deadline = callDeadline();
      const countryId = await countryIdOf(country, deadline);
      if (!countryId) return [];
      const filters: Record<string, string> = {
        'filter[country.id]': countryId,
        'filter[did_group_type.id]': await groupTypeIdOf(kind, deadline),
      };
      if (area !== undefined) {
        const groups = await getCollection(
          'did_groups',
          { ...filters, 'filter[prefix]': area, 'page[size]': String(pageSize) },
          deadline,
        );
        if (groups.data.length === 0) return [];
        filters['filter[did_group.id]'] = groups.data.map(({ id }) => id).join(',');
      }
      // No paging here: DIDWW answers a sample of the matching numbers, in random order.
      const available = await getCollection(
        'available_dids',
        { ...filters, include: 'did_group.stock_keeping_units' },
        deadline,
      );
      return offersIn(available)
        .slice(0, limit)
        .map((offer) => providerNumber(offer, { kind, country }));
    },

    async find(number: string): Promise<ProviderNumber | undefined> {
      const deadline = callDeadline();
      const digits = digitsOf(number);
      const available = await getCollection(
        'available_dids',
        { 'filter[number_contains]': digits, include: 'did_group.stock_keeping_units' },
        deadline,
      );
      const [offer] = offersIn({
        ...available,
        data: available.data.filter(
          (resource) => attributesOf(resource, availableDidAttributesSchema).number === digits,
        ),
      });
      if (!offer) return undefined;
      // available_dids cannot include a group's country or type; the group can.
      const facts = await groupFactsOf(offer.groupId, deadline);
      return facts ? providerNumber(offer, facts) : undefined;
    },

    async order(numbers: readonly ProviderNumber[], reference: string): Promise<OrderedDid[]> {
      if (numbers.length === 0) return [];
      const deadline = callDeadline();
      const offers = numbers.map(({ offerRef }) => parseOfferRef(offerRef));
      // A reservation holds its number for us alone, so the order cannot lose one to a race.
      const reservationIds = new Map<string, string>();
      let order: SingleDocument;
      try {
        await boundedAll(offers, reservationsInFlight, async ({ availableDidId }) => {
          const reservation = await sendForOne(
            {
              method: 'POST',
              path: 'did_reservations',
              body: reservationRequest(availableDidId, reference),
            },
            deadline,
          );
          reservationIds.set(availableDidId, reservation.data.id);
        });
        order = await sendForOne(
          {
            method: 'POST',
            path: 'orders',
            body: orderRequest(
              offers.map(({ availableDidId, skuId }) => ({
                skuId,
                reservationId: reservationIds.get(availableDidId) as string,
              })),
              reference,
            ),
          },
          deadline,
        );
      } catch (error) {
        await compensate(
          [...reservationIds.values()].map((id) => ({
            method: 'DELETE',
            path: `did_reservations/${encodeURIComponent(id)}`,
          })),
        );
        throw error;
      }
      const { status } = attributesOf(order.data, orderAttributesSchema);
      await awaitCompletion(order.data.id, status, deadline);
      return orderedDids(order.data.id, numbers, deadline);
    },

    async findOwned(number: string): Promise<OrderedDid | undefined> {
      const digits = digitsOf(number);
      const dids = await getCollection(
        'dids',
        { 'filter[number]': digits, 'filter[terminated]': 'false' },
        callDeadline(),
      );
      const held = dids.data.find((did) => {
        const attributes = attributesOf(did, didAttributesSchema);
        return attributes.number === digits && !attributes.terminated;
      });
      return held && { number, providerDidId: held.id };
    },

    async release(providerDidId: string): Promise<void> {
      try {
        const did = await sendForOne(
          {
            method: 'PATCH',
            path: `dids/${encodeURIComponent(providerDidId)}`,
            body: terminationRequest(providerDidId),
          },
          callDeadline(),
        );
        if (!attributesOf(did.data, didAttributesSchema).terminated) {
          throw new AppError('provider_error', `DIDWW did not terminate DID ${providerDidId}.`);
        }
      } catch (error) {
        // A DID DIDWW no longer has is released already.
        if (error instanceof DidwwAnswerError && error.httpStatus === 404) return;
        throw error;
      }
    },
  };
}

/** The orderable offers of an `available_dids` document with its groups' SKUs included. */
function offersIn(document: CollectionDocument): Offer[] {
  const included = includedOf(document);
  return document.data.flatMap((availableDid) => {
    const { number } = attributesOf(availableDid, availableDidAttributesSchema);
    const groupId = relatedIds(availableDid, 'did_group')[0];
    const group = groupId === undefined ? undefined : included('did_groups', groupId);
    if (!groupId || !group) {
      throw new AppError(
        'provider_error',
        `DIDWW answered available DID ${availableDid.id} without its DID group.`,
      );
    }
    const skus = relatedIds(group, 'stock_keeping_units').map((skuId) => {
      const sku = included('stock_keeping_units', skuId);
      if (!sku) {
        throw new AppError(
          'provider_error',
          `DIDWW answered DID group ${groupId} without its stock keeping unit ${skuId}.`,
        );
      }
      return { id: skuId, ...attributesOf(sku, stockKeepingUnitAttributesSchema) };
    });
    // We buy the number, not capacity: the SKU with the fewest included channels, the first of equals.
    const sku = skus.reduce<(typeof skus)[number] | undefined>(
      (best, candidate) =>
        !best || candidate.channels_included_count < best.channels_included_count
          ? candidate
          : best,
      undefined,
    );
    // A group without SKUs cannot be ordered, so its numbers are not offers.
    if (!sku) return [];
    const { prefix } = attributesOf(group, didGroupAttributesSchema);
    return [
      {
        number: e164Of(number),
        area: prefix || null,
        activationCost: sku.setup_price,
        recurringCost: sku.monthly_price,
        offerRef: `${availableDid.id}:${sku.id}`,
        groupId,
      },
    ];
  });
}

const providerNumber = (
  offer: Offer,
  { kind, country }: { readonly kind: DidKind; readonly country: string },
): ProviderNumber => ({
  number: offer.number,
  kind,
  country,
  area: offer.area,
  activationCost: offer.activationCost,
  recurringCost: offer.recurringCost,
  offerRef: offer.offerRef,
});

/** `offerRef` is `<available DID id>:<SKU id>`, what an order item of a reservation names. */
function parseOfferRef(offerRef: string): { availableDidId: string; skuId: string } {
  const [availableDidId, skuId, ...rest] = offerRef.split(':');
  if (!availableDidId || !skuId || rest.length > 0) {
    throw new AppError('provider_error', `"${offerRef}" is not a DIDWW offer reference.`);
  }
  return { availableDidId, skuId };
}

/** DIDWW writes a number as its E.164 digits without the `+`. */
const digitsOf = (number: string): string => number.replace(/^\+/, '');

function e164Of(digits: string): string {
  const number = `+${digits}`;
  if (!e164Schema.safeParse(number).success) {
    throw new AppError('provider_error', `DIDWW offers ${digits}, which is not an E.164 number.`);
  }
  return number;
}
