import { createHash, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { addDecimals, formatDecimal, parseDecimal } from '../../lib/domain/dids/money.js';

/**
 * A local stand-in for DIDWW API v3 (§8): the subset the DIDWW adapter uses, in DIDWW's
 * own wire format (JSON:API, `application/vnd.api+json`, the `Api-Key` header, JSON:API
 * error documents), so the adapter's code runs unchanged against it in development and
 * tests. Shapes follow DIDWW's SDK fixtures; links are omitted except where the adapter
 * cannot tell. It keeps its own implementation on purpose (nothing shared with the
 * adapter), so a mistake in the adapter's wire format is not mirrored here.
 *
 * Like DIDWW, it answers relationship linkage (`data`) only for relationships the request
 * includes, refuses filters and includes it does not know (400), holds a reserved number
 * for its reservation alone (10 minutes) and never back-orders.
 */

export interface StandInNumber {
  /** E.164 with the `+`; DIDWW writes the digits only. */
  readonly number: string;
  readonly kind: 'local' | 'toll_free';
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** The area code: the prefix of the number's DID group. */
  readonly area: string | null;
  /** What DIDWW charges once (the SKU's setup_price) and monthly (its monthly_price). */
  readonly setupPrice: string;
  readonly monthlyPrice: string;
}

export interface StandInDid {
  readonly id: string;
  /** E.164 with the `+`. */
  readonly number: string;
  readonly terminated: boolean;
  readonly orderId: string;
}

export interface StandInOrder {
  readonly id: string;
  readonly status: OrderStatus;
  readonly externalReferenceId: string | null;
  /** E.164 with the `+`. */
  readonly numbers: readonly string[];
}

export interface StandInReservation {
  readonly id: string;
  /** E.164 with the `+`. */
  readonly number: string;
  readonly description: string;
  readonly expiresAt: string;
}

export interface StandInRequest {
  readonly method: string;
  /** Below the base URL, without the query, e.g. `available_dids` or `dids/{id}`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** As Node hands them: names in lower case. */
  readonly headers: IncomingHttpHeaders;
}

export interface DidwwStandInControl {
  /** Adds numbers to the inventory (a number already there is replaced). */
  seed(numbers: readonly StandInNumber[]): void;
  /** The next `count` requests answer a JSON:API error with `status`. */
  failNext(count?: number, status?: number): void;
  /** The next `count` requests are never answered (until `stop`). */
  hangNext(count?: number): void;
  /** The next `count` requests of `method` whose path starts with `pathPrefix` fail with `status`. */
  failOn(method: string, pathPrefix: string, status?: number, count?: number): void;
  /** Orders created from now on stay `pending` for `polls` GETs of them, then complete. */
  pendingPolls(polls: number): void;
  owned(): StandInDid[];
  orders(): StandInOrder[];
  /** The reservations that still hold their number. */
  reservations(): StandInReservation[];
  requests(): StandInRequest[];
  /** Back to the initial inventory: no orders, DIDs, reservations, failures or log. */
  reset(): void;
}

export interface DidwwStandIn {
  /** The base URL, ending in /v3, as DIDWW_API_URL takes it. */
  readonly url: string;
  readonly apiKey: string;
  stop(): Promise<void>;
  readonly control: DidwwStandInControl;
}

export interface DidwwStandInOptions {
  readonly port?: number;
  readonly host?: string;
  readonly apiKey?: string;
  readonly inventory?: readonly StandInNumber[];
}

type OrderStatus = 'pending' | 'completed' | 'canceled';

const mediaType = 'application/vnd.api+json';
const defaultApiKey = 'didww-stand-in-api-key';
/** The API version whose format the stand-in speaks; a request may also name none (the account's default). */
const apiVersion = '2026-04-16';
/** DIDWW keeps a reservation for 10 minutes (its fixtures: expires_at is created_at + 10 min). */
const reservationMillis = 10 * 60 * 1000;
const defaultPageSize = 50;
const maxPageSize = 100;

const numbersFrom = (
  first: number,
  count: number,
  entry: Omit<StandInNumber, 'number'>,
  prefix: string,
): StandInNumber[] =>
  Array.from({ length: count }, (_, index) => ({
    ...entry,
    number: `${prefix}${String(first + index).padStart(4, '0')}`,
  }));

/** A small, fixed inventory: 10 US local numbers in 212, 5 US toll-free (800), 5 London numbers. */
export const defaultStandInInventory: readonly StandInNumber[] = [
  ...numbersFrom(
    100,
    10,
    { kind: 'local', country: 'US', area: '212', setupPrice: '0.50', monthlyPrice: '1.20' },
    '+1212555',
  ),
  ...numbersFrom(
    200,
    5,
    { kind: 'toll_free', country: 'US', area: '800', setupPrice: '1.00', monthlyPrice: '2.50' },
    '+1800555',
  ),
  ...numbersFrom(
    300,
    5,
    { kind: 'local', country: 'GB', area: '20', setupPrice: '0.00', monthlyPrice: '0.90' },
    '+44207946',
  ),
];

/** DIDWW's DID group types with their ids (from its fixtures); the stand-in sells Local and Toll-free. */
const didGroupTypes = [
  { id: 'd6530a8c-924c-469a-98c0-9525602e6192', name: 'Global' },
  { id: '994ea201-4a4d-4b27-ac4b-b5916ac969a3', name: 'Local' },
  { id: '6bba60f1-e724-4d12-9ea4-a3a64705800f', name: 'Mobile' },
  { id: '2c165e9d-c6f5-4fe1-ad0e-bacf5bab3d86', name: 'National' },
  { id: 'e95378ee-e93f-459e-a2f6-9056c064f529', name: 'Shared Cost' },
  { id: 'ec95e831-fc36-489a-a531-0fd1984ab6e8', name: 'Toll-free' },
] as const;
const groupTypeIdOfKind = {
  local: '994ea201-4a4d-4b27-ac4b-b5916ac969a3',
  toll_free: 'ec95e831-fc36-489a-a531-0fd1984ab6e8',
} as const;

/** Calling codes of the countries the stand-in is likely to hold; others list an empty prefix. */
const callingCodes: Readonly<Record<string, string>> = {
  US: '1',
  CA: '1',
  GB: '44',
  DE: '49',
  FR: '33',
  NL: '31',
  ES: '34',
  IT: '39',
  AU: '61',
};
const countryNames = new Intl.DisplayNames(['en'], { type: 'region' });

/**
 * Catalogue ids (countries, groups, SKUs, available DIDs) are UUIDs derived from what they
 * name, so they survive `reset`: an adapter caches DIDWW's catalogue ids for its life.
 */
function stableUuid(name: string): string {
  const hex = createHash('sha1').update(`didww-stand-in:${name}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const digitsOf = (number: string): string => number.replace(/^\+/, '');
const e164 = (digits: string): string => `+${digits}`;

// ----- JSON:API documents -------------------------------------------------------------

interface Identifier {
  readonly type: string;
  readonly id: string;
}

/** A resource the stand-in can render, with its relationships resolved on demand. */
interface Node extends Identifier {
  readonly attributes: Record<string, unknown>;
  readonly relationships?: Readonly<Record<string, () => Node | Node[] | null>>;
  readonly meta?: Record<string, unknown>;
}

/** Renders primary data with the included paths (e.g. `did_group.stock_keeping_units`). */
function renderDocument(
  baseUrl: string,
  primary: Node | Node[],
  includePaths: readonly string[],
  meta?: Record<string, unknown>,
): Record<string, unknown> {
  interface Entry {
    readonly node: Node;
    readonly linked: Set<string>;
  }
  const entryOf = (node: Node): Entry => ({ node, linked: new Set() });
  const primaries = (Array.isArray(primary) ? primary : [primary]).map(entryOf);
  const included = new Map<string, Entry>();
  const walk = (entry: Entry, [relationship, ...rest]: string[]) => {
    if (!relationship) return;
    entry.linked.add(relationship);
    const related = entry.node.relationships?.[relationship]?.() ?? null;
    for (const node of related === null ? [] : Array.isArray(related) ? related : [related]) {
      const key = `${node.type}/${node.id}`;
      const target = included.get(key) ?? entryOf(node);
      included.set(key, target);
      walk(target, rest);
    }
  };
  for (const entry of primaries) for (const path of includePaths) walk(entry, path.split('.'));
  const render = ({ node, linked }: Entry) => ({
    id: node.id,
    type: node.type,
    attributes: node.attributes,
    ...(node.relationships && {
      relationships: Object.fromEntries(
        Object.entries(node.relationships).map(([name, resolve]) => {
          const links = {
            self: `${baseUrl}/${node.type}/${node.id}/relationships/${name}`,
            related: `${baseUrl}/${node.type}/${node.id}/${name}`,
          };
          if (!linked.has(name)) return [name, { links }];
          const related = resolve();
          const identifier = ({ type, id }: Node) => ({ type, id });
          const data =
            related === null
              ? null
              : Array.isArray(related)
                ? related.map(identifier)
                : identifier(related);
          return [name, { links, data }];
        }),
      ),
    }),
    ...(node.meta && { meta: node.meta }),
  });
  return {
    data: Array.isArray(primary) ? primaries.map(render) : render(primaries[0] as Entry),
    ...(included.size > 0 && { included: [...included.values()].map(render) }),
    ...(meta && { meta }),
  };
}

interface ErrorObject {
  readonly title: string;
  readonly detail: string;
  readonly code: string;
  readonly status: string;
  readonly source?: { readonly pointer?: string; readonly parameter?: string };
}

/** An answer the handler refuses with: rendered as DIDWW's `{errors: [...]}`. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly errorObject: ErrorObject,
  ) {
    super(errorObject.detail);
  }
}

const refusal = (
  status: number,
  title: string,
  detail: string,
  source?: ErrorObject['source'],
  code = String(status),
): Refusal =>
  new Refusal(status, { title, detail, code, status: String(status), ...(source && { source }) });

const notFound = (id: string): Refusal =>
  refusal(404, 'Record not found', `The record identified by ${id} could not be found.`);

/** DIDWW's validation error: code 100, a pointer into the body, status 422. */
const invalid = (pointer: string, title = 'is invalid'): Refusal => {
  const member = pointer.replace(/^\/data\/(attributes|relationships)\//, '');
  return refusal(422, title, `${member} - ${title}`, { pointer }, '100');
};

// ----- the server ---------------------------------------------------------------------

interface Reservation {
  readonly id: string;
  readonly number: string;
  readonly description: string;
  readonly createdAt: number;
}

interface OrderItem {
  readonly number: string;
  readonly skuId: string;
  readonly groupId: string;
  readonly setupPrice: string;
  readonly monthlyPrice: string;
}

interface Order {
  readonly id: string;
  status: OrderStatus;
  pollsLeft: number;
  readonly reference: string;
  readonly externalReferenceId: string | null;
  readonly allowBackOrdering: boolean;
  readonly createdAt: string;
  readonly items: readonly OrderItem[];
}

interface Did {
  readonly id: string;
  readonly number: string;
  readonly orderId: string;
  readonly groupId: string;
  readonly createdAt: string;
  terminated: boolean;
}

interface Group {
  readonly id: string;
  readonly country: string;
  readonly kind: StandInNumber['kind'];
  readonly area: string | null;
  readonly skus: readonly {
    id: string;
    setupPrice: string;
    monthlyPrice: string;
    channels: number;
  }[];
}

interface Query {
  readonly filters: ReadonlyMap<string, string>;
  readonly include: readonly string[];
  readonly page: { readonly size: number; readonly number: number };
}

interface Call {
  readonly path: readonly string[];
  readonly query: Query;
  readonly body: unknown;
}

type Handler = (call: Call) => { status: number; document?: Record<string, unknown> };

/** Starts the stand-in on `host:port` (default 127.0.0.1 and a free port). */
export async function startDidwwStandIn(options: DidwwStandInOptions = {}): Promise<DidwwStandIn> {
  const apiKey = options.apiKey ?? defaultApiKey;
  const initialInventory = [...(options.inventory ?? defaultStandInInventory)];

  let inventory = new Map<string, StandInNumber>();
  let reservations = new Map<string, Reservation>();
  let orders = new Map<string, Order>();
  let dids = new Map<string, Did>();
  let log: StandInRequest[] = [];
  let failures: { status: number }[] = [];
  let hangs = 0;
  let targetedFailures: { method: string; pathPrefix: string; status: number; left: number }[] = [];
  let pendingPollsOfNewOrders = 0;
  /** Set once listening: the links of rendered resources point below it. */
  let baseUrl = '';

  const seed = (numbers: readonly StandInNumber[]) => {
    for (const entry of numbers) {
      if (!/^\+[1-9]\d{7,14}$/.test(entry.number)) {
        throw new RangeError(`${entry.number} is not an E.164 number`);
      }
      parseDecimal(entry.setupPrice);
      parseDecimal(entry.monthlyPrice);
      inventory.set(digitsOf(entry.number), { ...entry, country: entry.country.toUpperCase() });
    }
  };
  const reset = () => {
    inventory = new Map();
    seed(initialInventory);
    reservations = new Map();
    orders = new Map();
    dids = new Map();
    log = [];
    failures = [];
    hangs = 0;
    targetedFailures = [];
    pendingPollsOfNewOrders = 0;
  };
  reset();

  // ----- catalogue, derived from the inventory -----

  const groupKeyOf = (entry: StandInNumber) =>
    [entry.country, entry.kind, entry.area ?? '', entry.setupPrice, entry.monthlyPrice].join('|');
  /** One DID group per country, type, area and price; each with DIDWW's two kinds of SKU. */
  const groupOf = (entry: StandInNumber): Group => {
    const key = groupKeyOf(entry);
    const monthly = parseDecimal(entry.monthlyPrice);
    return {
      id: stableUuid(`did_group:${key}`),
      country: entry.country,
      kind: entry.kind,
      area: entry.area,
      skus: [
        {
          id: stableUuid(`sku:${key}:0`),
          setupPrice: entry.setupPrice,
          monthlyPrice: entry.monthlyPrice,
          channels: 0,
        },
        // With two channels included it costs more each month, as DIDWW's second SKU does.
        {
          id: stableUuid(`sku:${key}:2`),
          setupPrice: entry.setupPrice,
          monthlyPrice: formatDecimal(
            addDecimals(monthly, parseDecimal('1')),
            Math.max(monthly.scale, 2),
          ),
          channels: 2,
        },
      ],
    };
  };
  const groups = (): Map<string, Group> => {
    const byId = new Map<string, Group>();
    for (const entry of inventory.values()) {
      const group = groupOf(entry);
      byId.set(group.id, group);
    }
    return byId;
  };
  const countryIdOf = (iso: string) => stableUuid(`country:${iso}`);
  const availableDidIdOf = (digits: string) => stableUuid(`available_did:${digits}`);

  const countryNode = (iso: string): Node => ({
    type: 'countries',
    id: countryIdOf(iso),
    attributes: { name: countryNames.of(iso) ?? iso, prefix: callingCodes[iso] ?? '', iso },
  });
  const groupTypeNode = (type: (typeof didGroupTypes)[number]): Node => ({
    type: 'did_group_types',
    id: type.id,
    attributes: { name: type.name },
  });
  const skuNode = (sku: Group['skus'][number]): Node => ({
    type: 'stock_keeping_units',
    id: sku.id,
    attributes: {
      setup_price: sku.setupPrice,
      monthly_price: sku.monthlyPrice,
      channels_included_count: sku.channels,
    },
  });
  const groupNode = (group: Group): Node => ({
    type: 'did_groups',
    id: group.id,
    attributes: {
      prefix: group.area ?? '',
      local_prefix: '',
      features: ['voice_in', 'voice_out'],
      is_metered: false,
      area_name: group.area
        ? `Area ${group.area}`
        : (countryNames.of(group.country) ?? group.country),
      allow_additional_channels: true,
      service_restrictions: null,
    },
    relationships: {
      country: () => countryNode(group.country),
      did_group_type: () =>
        groupTypeNode(
          didGroupTypes.find(
            ({ id }) => id === groupTypeIdOfKind[group.kind],
          ) as (typeof didGroupTypes)[number],
        ),
      stock_keeping_units: () => group.skus.map(skuNode),
    },
    meta: { needs_registration: false, is_available: true, available_dids_enabled: true },
  });
  const availableDidNode = (entry: StandInNumber): Node => ({
    type: 'available_dids',
    id: availableDidIdOf(digitsOf(entry.number)),
    attributes: { number: digitsOf(entry.number) },
    relationships: { did_group: () => groupNode(groupOf(entry)) },
  });

  // ----- availability -----

  const liveReservations = (): Reservation[] => {
    const now = Date.now();
    for (const [id, reservation] of reservations) {
      if (now - reservation.createdAt >= reservationMillis) reservations.delete(id);
    }
    return [...reservations.values()];
  };
  /** Numbers a pending order or a DID on the account holds. */
  const heldNumbers = (): Set<string> =>
    new Set([
      ...[...orders.values()]
        .filter(({ status }) => status === 'pending')
        .flatMap(({ items }) => items.map(({ number }) => number)),
      ...[...dids.values()].filter(({ terminated }) => !terminated).map(({ number }) => number),
    ]);
  const availableNumbers = (): StandInNumber[] => {
    const taken = heldNumbers();
    for (const { number } of liveReservations()) taken.add(number);
    return [...inventory.entries()]
      .filter(([digits]) => !taken.has(digits))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, entry]) => entry);
  };

  // ----- account resources -----

  const reservationNode = (reservation: Reservation): Node => ({
    type: 'did_reservations',
    id: reservation.id,
    attributes: {
      expires_at: new Date(reservation.createdAt + reservationMillis).toISOString(),
      created_at: new Date(reservation.createdAt).toISOString(),
      description: reservation.description,
    },
    relationships: {
      available_did: () => {
        const entry = inventory.get(reservation.number);
        return entry ? availableDidNode(entry) : null;
      },
    },
  });
  const sum = (prices: readonly string[]) => {
    const total = prices.map(parseDecimal).reduce(addDecimals, parseDecimal('0'));
    return formatDecimal(total, total.scale);
  };
  const orderNode = (order: Order): Node => ({
    type: 'orders',
    id: order.id,
    attributes: {
      amount: sum(
        order.items.flatMap(({ setupPrice, monthlyPrice }) => [setupPrice, monthlyPrice]),
      ),
      status: order.status,
      created_at: order.createdAt,
      description: 'DID',
      reference: order.reference,
      allow_back_ordering: order.allowBackOrdering,
      external_reference_id: order.externalReferenceId,
      callback_url: null,
      callback_method: null,
      items: order.items.map((item) => ({
        type: 'did_order_items',
        attributes: {
          qty: 1,
          nrc: item.setupPrice,
          mrc: item.monthlyPrice,
          prorated_mrc: false,
          billed_from: null,
          billed_to: null,
          setup_price: item.setupPrice,
          monthly_price: item.monthlyPrice,
          did_group_id: item.groupId,
        },
      })),
    },
  });
  const didNode = (did: Did): Node => ({
    type: 'dids',
    id: did.id,
    attributes: {
      blocked: false,
      capacity_limit: null,
      description: null,
      terminated: did.terminated,
      awaiting_registration: false,
      created_at: did.createdAt,
      number: did.number,
      expires_at: null,
      channels_included_count: 0,
      billing_cycles_count: null,
      dedicated_channels_count: 0,
      emergency_enabled: false,
    },
    relationships: {
      did_group: () => {
        const group = groups().get(did.groupId);
        return group ? groupNode(group) : null;
      },
      order: () => {
        const order = orders.get(did.orderId);
        return order ? orderNode(order) : null;
      },
    },
  });

  const complete = (order: Order) => {
    order.status = 'completed';
    for (const item of order.items) {
      const id = randomUUID();
      dids.set(id, {
        id,
        number: item.number,
        orderId: order.id,
        groupId: item.groupId,
        createdAt: new Date().toISOString(),
        terminated: false,
      });
    }
  };

  // ----- handlers -----

  const paged = <T>(items: readonly T[], { size, number }: Query['page']) =>
    items.slice((number - 1) * size, number * size);
  const listDocument = (nodes: readonly Node[], query: Query) =>
    renderDocument(baseUrl, paged(nodes, query.page), query.include, {
      total_records: nodes.length,
    });

  const idsFilter = (query: Query, name: string): Set<string> | undefined => {
    const value = query.filters.get(name);
    return value === undefined ? undefined : new Set(value.split(',').filter(Boolean));
  };
  const matches = (allowed: Set<string> | undefined, value: string) =>
    !allowed || allowed.has(value);

  const handlers: Record<string, Handler> = {
    'GET countries': ({ query }) => {
      const iso = query.filters.get('iso')?.toUpperCase();
      const isos = [...new Set([...inventory.values()].map(({ country }) => country))].sort();
      return {
        status: 200,
        document: listDocument(
          isos.filter((candidate) => iso === undefined || candidate === iso).map(countryNode),
          query,
        ),
      };
    },
    'GET did_group_types': ({ query }) => ({
      status: 200,
      document: listDocument(didGroupTypes.map(groupTypeNode), query),
    }),
    'GET did_groups': ({ query }) => {
      const countryIds = idsFilter(query, 'country.id');
      const typeIds = idsFilter(query, 'did_group_type.id');
      const prefix = query.filters.get('prefix');
      const selected = [...groups().values()].filter(
        (group) =>
          matches(countryIds, countryIdOf(group.country)) &&
          matches(typeIds, groupTypeIdOfKind[group.kind]) &&
          (prefix === undefined || (group.area ?? '') === prefix),
      );
      return { status: 200, document: listDocument(selected.map(groupNode), query) };
    },
    'GET did_groups/:id': ({ path, query }) => {
      const group = groups().get(path[1] as string);
      if (!group) throw notFound(path[1] as string);
      return { status: 200, document: renderDocument(baseUrl, groupNode(group), query.include) };
    },
    'GET available_dids': ({ query }) => {
      const countryIds = idsFilter(query, 'country.id');
      const typeIds = idsFilter(query, 'did_group_type.id');
      const groupIds = idsFilter(query, 'did_group.id');
      const contains = query.filters.get('number_contains');
      const selected = availableNumbers().filter(
        (entry) =>
          matches(countryIds, countryIdOf(entry.country)) &&
          matches(typeIds, groupTypeIdOfKind[entry.kind]) &&
          matches(groupIds, groupOf(entry).id) &&
          (contains === undefined || digitsOf(entry.number).includes(contains)),
      );
      return { status: 200, document: listDocument(selected.map(availableDidNode), query) };
    },
    'POST did_reservations': ({ body, query }) => {
      const data = resourceObjectOf(body, 'did_reservations');
      const description = data.attributes?.description ?? '';
      if (typeof description !== 'string') throw invalid('/data/attributes/description');
      const linkage = (data.relationships?.available_did as { data?: unknown } | undefined)?.data;
      const availableDidId = isIdentifier(linkage, 'available_dids') ? linkage.id : undefined;
      const entry = availableNumbers().find(
        (candidate) => availableDidIdOf(digitsOf(candidate.number)) === availableDidId,
      );
      if (!entry) throw invalid('/data/relationships/available_did');
      const reservation: Reservation = {
        id: randomUUID(),
        number: digitsOf(entry.number),
        description,
        createdAt: Date.now(),
      };
      reservations.set(reservation.id, reservation);
      return {
        status: 201,
        document: renderDocument(baseUrl, reservationNode(reservation), query.include),
      };
    },
    'DELETE did_reservations/:id': ({ path }) => {
      const id = path[1] as string;
      if (!liveReservations().some((reservation) => reservation.id === id)) throw notFound(id);
      reservations.delete(id);
      return { status: 204 };
    },
    'POST orders': ({ body }) => {
      const data = resourceObjectOf(body, 'orders');
      const attributes = data.attributes ?? {};
      const allowBackOrdering = attributes.allow_back_ordering ?? true;
      if (typeof allowBackOrdering !== 'boolean')
        throw invalid('/data/attributes/allow_back_ordering');
      const externalReferenceId = attributes.external_reference_id ?? null;
      if (externalReferenceId !== null && typeof externalReferenceId !== 'string') {
        throw invalid('/data/attributes/external_reference_id');
      }
      const rawItems = attributes.items;
      if (!Array.isArray(rawItems) || rawItems.length === 0) {
        throw invalid('/data/attributes/items', "can't be blank");
      }
      const live = new Map(liveReservations().map((reservation) => [reservation.id, reservation]));
      const used = new Set<string>();
      // Every item is checked before anything is bought: one bad item fails the whole order.
      const items = rawItems.map((raw, index): OrderItem => {
        const pointer = `/data/attributes/items/${index}`;
        const item = raw as { type?: unknown; attributes?: Record<string, unknown> } | null;
        if (item?.type !== 'did_order_items') throw invalid(`${pointer}/type`);
        const { sku_id: skuId, did_reservation_id: reservationId } = item.attributes ?? {};
        const reservation = typeof reservationId === 'string' ? live.get(reservationId) : undefined;
        if (!reservation || used.has(reservation.id)) {
          // The stand-in sells reserved DIDs only: what the adapter orders.
          throw invalid(`${pointer}/did_reservation_id`);
        }
        used.add(reservation.id);
        const entry = inventory.get(reservation.number) as StandInNumber;
        const group = groupOf(entry);
        const sku = group.skus.find(({ id }) => id === skuId);
        if (!sku) throw invalid(`${pointer}/sku_id`);
        return {
          number: reservation.number,
          skuId: sku.id,
          groupId: group.id,
          setupPrice: sku.setupPrice,
          monthlyPrice: sku.monthlyPrice,
        };
      });
      for (const id of used) reservations.delete(id);
      const order: Order = {
        id: randomUUID(),
        status: 'pending',
        pollsLeft: pendingPollsOfNewOrders,
        reference: orderReference(),
        externalReferenceId,
        allowBackOrdering,
        createdAt: new Date().toISOString(),
        items,
      };
      orders.set(order.id, order);
      if (order.pollsLeft === 0) complete(order);
      return { status: 201, document: renderDocument(baseUrl, orderNode(order), []) };
    },
    'GET orders/:id': ({ path }) => {
      const order = orders.get(path[1] as string);
      if (!order) throw notFound(path[1] as string);
      if (order.status === 'pending') {
        if (order.pollsLeft === 0) complete(order);
        else order.pollsLeft -= 1;
      }
      return { status: 200, document: renderDocument(baseUrl, orderNode(order), []) };
    },
    'DELETE orders/:id': ({ path }) => {
      const order = orders.get(path[1] as string);
      if (!order) throw notFound(path[1] as string);
      if (order.status !== 'pending') throw invalid('/data/attributes/base', 'Order not pending');
      order.status = 'canceled';
      return { status: 204 };
    },
    'GET dids': ({ query }) => {
      const orderIds = idsFilter(query, 'order.id');
      const number = query.filters.get('number');
      const terminated = query.filters.get('terminated');
      if (terminated !== undefined && terminated !== 'true' && terminated !== 'false') {
        throw refusal(
          400,
          'Invalid filter value',
          `${terminated} is not a valid value for terminated.`,
          {
            parameter: 'filter[terminated]',
          },
        );
      }
      const selected = [...dids.values()].filter(
        (did) =>
          matches(orderIds, did.orderId) &&
          (number === undefined || did.number === number) &&
          (terminated === undefined || String(did.terminated) === terminated),
      );
      return { status: 200, document: listDocument(selected.map(didNode), query) };
    },
    'PATCH dids/:id': ({ path, body, query }) => {
      const id = path[1] as string;
      const did = dids.get(id);
      if (!did) throw notFound(id);
      const data = resourceObjectOf(body, 'dids');
      if (data.id !== id) {
        throw refusal(409, 'Conflict', 'The id in the body does not match the id in the URL.', {
          pointer: '/data/id',
        });
      }
      const attributes = data.attributes ?? {};
      for (const name of Object.keys(attributes)) {
        // Termination is all the stand-in changes on a DID.
        if (name !== 'terminated') throw invalid(`/data/attributes/${name}`, 'is not supported');
      }
      if (attributes.terminated !== true) throw invalid('/data/attributes/terminated');
      did.terminated = true;
      return { status: 200, document: renderDocument(baseUrl, didNode(did), query.include) };
    },
  };

  /** The filters, includes and page parameters each list or read understands. */
  const parameters: Readonly<
    Record<string, { filters: string[]; includes: string[]; paged: boolean }>
  > = {
    'GET countries': { filters: ['iso'], includes: [], paged: true },
    'GET did_group_types': { filters: [], includes: [], paged: true },
    'GET did_groups': {
      filters: ['country.id', 'did_group_type.id', 'prefix'],
      includes: ['country', 'did_group_type', 'stock_keeping_units'],
      paged: true,
    },
    'GET did_groups/:id': {
      filters: [],
      includes: ['country', 'did_group_type', 'stock_keeping_units'],
      paged: false,
    },
    'GET available_dids': {
      filters: ['country.id', 'did_group_type.id', 'did_group.id', 'number_contains'],
      includes: ['did_group', 'did_group.stock_keeping_units'],
      paged: true,
    },
    'GET dids': {
      filters: ['order.id', 'number', 'terminated'],
      includes: ['did_group', 'order'],
      paged: true,
    },
    'PATCH dids/:id': { filters: [], includes: ['did_group', 'order'], paged: false },
    'POST did_reservations': { filters: [], includes: ['available_did'], paged: false },
  };

  const parseQuery = (route: string, search: URLSearchParams): Query => {
    const allowed = parameters[route] ?? { filters: [], includes: [], paged: false };
    const filters = new Map<string, string>();
    let include: string[] = [];
    const page = { size: defaultPageSize, number: 1 };
    for (const [name, value] of search) {
      const filter = /^filter\[(.+)\]$/.exec(name)?.[1];
      const pageMember = /^page\[(size|number)\]$/.exec(name)?.[1] as 'size' | 'number' | undefined;
      if (filter !== undefined && allowed.filters.includes(filter)) {
        filters.set(filter, value);
      } else if (name === 'include') {
        include = value.split(',').filter(Boolean);
        const unknown = include.find((path) => !allowed.includes.includes(path));
        if (unknown !== undefined) {
          throw refusal(
            400,
            'Invalid include',
            `${unknown} is not a valid relationship to include.`,
            {
              parameter: 'include',
            },
          );
        }
      } else if (pageMember && allowed.paged) {
        const count = Number(value);
        const limit = pageMember === 'size' ? maxPageSize : Number.MAX_SAFE_INTEGER;
        if (!Number.isInteger(count) || count < 1 || count > limit) {
          throw refusal(400, 'Invalid page value', `${value} is not a valid value for ${name}.`, {
            parameter: name,
          });
        }
        page[pageMember] = count;
      } else {
        throw refusal(400, 'Invalid parameter', `${name} is not allowed.`, { parameter: name });
      }
    }
    return { filters, include, page };
  };

  /** Which handler serves a path: `dids/{id}` is the route `dids/:id`. */
  const routeOf = (method: string, segments: readonly string[]): string | undefined => {
    const candidates = [segments.join('/'), segments.length === 2 ? `${segments[0]}/:id` : ''];
    return candidates.map((path) => `${method} ${path}`).find((route) => route in handlers);
  };

  // ----- HTTP -----

  const hung = new Set<ServerResponse>();

  const send = (response: ServerResponse, status: number, document?: unknown) => {
    const body = document === undefined ? '' : JSON.stringify(document);
    response.writeHead(status, {
      'Content-Type': mediaType,
      ...(body && { 'Content-Length': Buffer.byteLength(body) }),
    });
    response.end(body);
  };
  const sendRefusal = (response: ServerResponse, { status, errorObject }: Refusal) =>
    send(response, status, { errors: [errorObject] });

  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const method = request.method ?? 'GET';
    const below = url.pathname.startsWith('/v3/') ? url.pathname.slice('/v3/'.length) : undefined;
    const path = (below ?? url.pathname.replace(/^\/+/, '')).replace(/\/+$/, '');
    log.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
    });

    if (hangs > 0) {
      hangs -= 1;
      hung.add(response);
      response.on('close', () => hung.delete(response));
      return;
    }
    const text = await readBody(request);
    const forced =
      failures.shift() ??
      (() => {
        const target = targetedFailures.find(
          (candidate) => candidate.method === method && path.startsWith(candidate.pathPrefix),
        );
        if (!target) return undefined;
        target.left -= 1;
        if (target.left <= 0)
          targetedFailures = targetedFailures.filter((other) => other !== target);
        return target;
      })();
    if (forced) {
      const title = forced.status >= 500 ? 'Internal server error' : 'Request failed';
      throw refusal(forced.status, title, `The stand-in was told to fail ${method} /${path}.`);
    }
    if (request.headers['api-key'] !== apiKey) {
      throw refusal(401, 'Unauthorized', 'The Api-Key header is missing or not a valid API key.');
    }
    const version = request.headers['x-didww-api-version'];
    if (version !== undefined && version !== apiVersion) {
      throw refusal(
        400,
        'Unsupported API version',
        `The stand-in speaks API version ${apiVersion}, not ${version}.`,
      );
    }
    const segments =
      below === undefined || path === '' ? [] : path.split('/').map(decodeURIComponent);
    const route = routeOf(method, segments);
    if (!route) throw refusal(404, 'Not found', `There is no ${method} /v3/${path}.`);
    let body: unknown;
    if (method === 'POST' || method === 'PATCH') {
      const contentType = request.headers['content-type'];
      if (contentType !== mediaType) {
        throw refusal(
          415,
          'Unsupported media type',
          `Send the body as ${mediaType}, not ${contentType ?? 'nothing'}.`,
        );
      }
      try {
        body = JSON.parse(text);
      } catch {
        throw refusal(400, 'Malformed request', 'The body is not JSON.');
      }
    }
    const query = parseQuery(route, url.searchParams);
    const answer = (handlers[route] as Handler)({ path: segments, query, body });
    send(response, answer.status, answer.document);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof Refusal) sendRefusal(response, error);
      else sendRefusal(response, refusal(500, 'Internal server error', String(error)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}/v3`;

  return {
    url: baseUrl,
    apiKey,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hung requests and idle keep-alive connections would hold the process otherwise.
      server.closeAllConnections();
      hung.clear();
      await closed;
    },
    control: {
      seed,
      failNext: (count = 1, status = 500) => {
        for (let index = 0; index < count; index++) failures.push({ status });
      },
      hangNext: (count = 1) => {
        hangs += count;
      },
      failOn: (method, pathPrefix, status = 500, count = 1) => {
        targetedFailures.push({
          method: method.toUpperCase(),
          pathPrefix: pathPrefix.replace(/^\/+/, '').replace(/^v3\//, ''),
          status,
          left: count,
        });
      },
      pendingPolls: (polls) => {
        pendingPollsOfNewOrders = polls;
      },
      owned: () =>
        [...dids.values()].map(({ id, number, terminated, orderId }) => ({
          id,
          number: e164(number),
          terminated,
          orderId,
        })),
      orders: () =>
        [...orders.values()].map(({ id, status, externalReferenceId, items }) => ({
          id,
          status,
          externalReferenceId,
          numbers: items.map(({ number }) => e164(number)),
        })),
      reservations: () =>
        liveReservations().map(({ id, number, description, createdAt }) => ({
          id,
          number: e164(number),
          description,
          expiresAt: new Date(createdAt + reservationMillis).toISOString(),
        })),
      requests: () => [...log],
      reset,
    },
  };
}

/** The resource object of a JSON:API request body, of the collection's type (409 otherwise, as JSON:API says). */
function resourceObjectOf(
  body: unknown,
  type: string,
): { id?: unknown; attributes?: Record<string, unknown>; relationships?: Record<string, unknown> } {
  const data = (body as { data?: unknown } | null)?.data as
    | { type?: unknown; id?: unknown; attributes?: unknown; relationships?: unknown }
    | undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw refusal(
      400,
      'Malformed request',
      'The body is not a JSON:API document with one resource object.',
      {
        pointer: '/data',
      },
    );
  }
  if (data.type !== type) {
    throw refusal(409, 'Conflict', `The resource object's type must be ${type}.`, {
      pointer: '/data/type',
    });
  }
  const objectOrUndefined = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  return {
    id: data.id,
    attributes: objectOrUndefined(data.attributes),
    relationships: objectOrUndefined(data.relationships),
  };
}

const isIdentifier = (value: unknown, type: string): value is Identifier =>
  typeof value === 'object' &&
  value !== null &&
  (value as Identifier).type === type &&
  typeof (value as Identifier).id === 'string';

/** DIDWW's order references look like `JXK-923618`. */
function orderReference(): string {
  const letters = Array.from({ length: 3 }, () =>
    String.fromCharCode(65 + Math.floor(Math.random() * 26)),
  ).join('');
  return `${letters}-${String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0')}`;
}
