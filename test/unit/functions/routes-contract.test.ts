import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DeleteCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { customerItem } from '../../../lib/data/customer.js';
import { didBatches } from '../../../lib/data/did-batch.js';
import { didNumbers } from '../../../lib/data/did-number.js';
import { invoices } from '../../../lib/data/invoice.js';
import { pbxRegistryKey } from '../../../lib/data/keys.js';
import { pbxItems } from '../../../lib/data/pbx-item.js';
import { periodCloses } from '../../../lib/data/period-close.js';
import { phoneLines } from '../../../lib/data/phone-line.js';
import { systemConfigs } from '../../../lib/data/system-config.js';
import type { ApiEvent, ApiResult } from '../../../lib/http/api-types.js';
import { problemContentType } from '../../../lib/http/problem.js';
import { declaredErrorCodes, type RouteDefinition } from '../../../lib/http/route.js';
import { type RouteName, routeList } from '../../../lib/http/routes.js';
import { apiEvent, lambdaContext } from '../../fixtures/api-events.js';
import { branchOf, customer, mainOffice } from '../../fixtures/customer-records.js';
import { conditionFailed, transactionConflict } from '../../fixtures/dynamodb-errors.js';
import {
  cancellation,
  ddb,
  type Failure,
  type Item,
  type Key,
  store,
  unstore,
} from '../../fixtures/mocked-table.js';
import { tableName } from '../../fixtures/service-context.js';

/**
 * The contract of the routes table, route by route, through each route's own handler
 * module: no request answers a 5xx, every refusal is problem+json with a code its row
 * declares, and a refused request writes nothing but its idempotency claim and release.
 * It holds for generated requests (against an empty table or a small stored world) and
 * for valid requests that DynamoDB itself refuses (conflicts, failed conditions), which
 * the other suites only reach where they happen to.
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
type Handler = (event: ApiEvent, context: Context) => Promise<ApiResult>;
const handlers = new Map<string, Handler>();

beforeAll(async () => {
  // The mocked table answers BatchGetItem for its own table name.
  vi.stubEnv('TABLE_NAME', tableName);
  for (const route of routeList) {
    const module = await import(/* @vite-ignore */ resolve(repoRoot, route.entry));
    handlers.set(route.operationId, module.handler as Handler);
  }
});

// The stored world: a standalone customer, a main office with one branch, their PBX
// numbers and items, an account with an alias, a DID batch and the system configuration.
const account = '+4930123456';
const alias = '+4930999999';
const createdAt = '2026-11-01T00:00:00.000Z';

/** A PBX registry as stored: written by UpdateItems only, so it has no customerId. */
const registry = (owner: string, own: string[], reserved: string[]): Item => ({
  ...pbxRegistryKey(owner),
  entityType: 'pbxRegistry',
  ...(own.length > 0 ? { own: new Set(own) } : {}),
  ...(reserved.length > 0 ? { reserved: new Set(reserved) } : {}),
  revision: 3,
});

const line = (number: string, fields: { kind: 'account' | 'alias'; authentication?: 'system' }) =>
  phoneLines.toItem({
    number,
    customerId: 'c1',
    resellerId: 'r1',
    accountNumber: account,
    customerStatus: 'active',
    createdAt,
    version: 1,
    ...fields,
  });

const inventoryDid = (number: string) =>
  didNumbers.toItem({
    number,
    batchId: 'b1',
    source: 'inventory',
    provider: null,
    kind: 'local',
    country: 'DE',
    area: '30',
    activationCost: '1',
    recurringCost: '0.99',
    status: 'available',
    customerId: null,
    assignedAt: null,
    releasedAt: null,
    addedAt: createdAt,
    orderId: null,
    providerDidId: null,
  });

const world: readonly Item[] = [
  customerItem(
    customer('c1', {
      did: { enabled: true, batchId: 'b1' },
      didBatch: { id: 'b1', source: 'inventory', provider: null, pricing: { free: true } },
    }),
  ),
  inventoryDid('+4930100100'),
  inventoryDid('+4930100101'),
  customerItem(mainOffice('hq', { hierarchy: { branchCount: 1 } })),
  customerItem(branchOf('br', 'hq')),
  registry('c1', ['101', '102', '500'], ['101', '102', '500']),
  registry('hq', ['200'], ['200']),
  pbxItems.extension.toItem({ number: '101', name: 'Reception', ownerId: 'c1', usedBy: 1 }),
  pbxItems.extension.toItem({ number: '102', name: 'Desk', ownerId: 'c1' }),
  pbxItems.extension.toItem({ number: '200', name: 'HQ desk', ownerId: 'hq' }),
  pbxItems.huntGroup.toItem({
    number: '500',
    name: 'Sales',
    ownerId: 'c1',
    strategy: 'sequential',
    members: [{ number: '101', ownerId: 'c1' }],
  }),
  line(account, { kind: 'account' }),
  line(alias, { kind: 'alias', authentication: 'system' }),
  didBatches.toItem({
    id: 'b1',
    name: 'Batch b1',
    source: 'inventory',
    provider: null,
    pricing: { free: true },
    createdAt,
    version: 1,
  }),
  systemConfigs.toItem({ aliasAuthentication: 'enabled', version: 2 }),
  invoices.toItem({
    customerId: 'c1',
    period: '2026-11',
    currency: 'EUR',
    totalMicros: 1_250_000n,
    usageMicros: 1_250_000n,
    did_activationMicros: 0n,
    did_recurringMicros: 0n,
    manualMicros: 0n,
    chargeCount: 1,
    version: 1,
    consolidatedInto: null,
  }),
  periodCloses.toItem({
    period: '2026-09',
    status: 'closed',
    shard: 16,
    cursor: 'START',
    recurringCharges: 0,
    startedAt: createdAt,
    closedAt: createdAt,
  }),
];

const idOf = (key: { readonly pk?: unknown; readonly sk?: unknown }) =>
  `${String(key.pk)}|${String(key.sk)}`;
const worldById = new Map(world.map((item) => [idOf(item), item]));
const worldAt = (key: Key) => worldById.get(idOf(key));

/** A request the route serves against the stored world: its path parameters, query, body and If-Match. */
interface KnownGoodRequest {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly ifMatch?: string;
}

const c1 = { id: 'c1' };
const br = { id: 'br' };

const knownGood = {
  health: [{}],
  openapi: [{}],
  createCustomer: [
    { body: { name: 'Acme', businessModel: 'universal', currency: 'EUR' } },
    {
      body: {
        name: 'Zoë & Co',
        businessModel: 'mobile',
        currency: 'GBP',
        resellerId: 'r1',
        timezone: 'Europe/Berlin',
      },
    },
  ],
  listCustomers: [{}, { query: { office: 'main', q: 'cust', limit: '10' } }],
  getCustomer: [{ params: c1 }],
  patchCustomer: [
    { params: c1, body: { name: 'Renamed' }, ifMatch: '"4"' },
    { params: c1, body: { timezone: 'Europe/Paris' } },
  ],
  terminateCustomer: [{ params: c1 }, { params: { id: 'hq' }, ifMatch: '"4"' }],
  getAdditionalInfo: [{ params: br }],
  patchAdditionalInfo: [
    { params: c1, body: { aliasAuthDefault: 'enabled' } },
    { params: c1, body: { didAutoProvisioning: { enabled: true, batchId: 'b1' } } },
    { params: c1, body: { officeHierarchy: { enabled: true, office: 'main' } } },
    {
      params: c1,
      body: { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'hq' } },
      ifMatch: '"4"',
    },
    { params: br, body: { officeHierarchy: { enabled: false } } },
    { params: br, body: { didAutoProvisioning: { enabled: false } } },
    { params: { id: 'hq' }, body: { officeHierarchy: { invoicing: 'consolidated' } } },
  ],
  listBranches: [{ params: { id: 'hq' }, query: { limit: '5' } }],
  createExtension: [
    { params: c1, body: { number: '103', name: 'Kitchen' } },
    { params: br, body: { number: '300', name: 'Branch desk', accountNumber: account } },
  ],
  listExtensions: [{ params: br }],
  deleteExtension: [{ params: { id: 'c1', number: '102' } }],
  createHuntGroup: [
    {
      params: c1,
      body: { number: '600', name: 'Support', strategy: 'round_robin', members: ['101', '102'] },
    },
    {
      params: br,
      body: { number: '601', name: 'Front', strategy: 'simultaneous', members: ['200'] },
    },
  ],
  listHuntGroups: [{ params: c1, query: { limit: '1' } }],
  deleteHuntGroup: [{ params: { id: 'c1', number: '500' } }],
  createAccount: [{ params: c1, body: { number: '+4930555555' } }],
  listAccounts: [{ params: c1 }],
  createAlias: [
    { params: { number: account }, body: { number: '+4930777777' } },
    { params: { number: account }, body: { number: '+4930777778', authentication: 'disabled' } },
  ],
  listAliases: [{ params: { number: account } }],
  getAlias: [{ params: { number: alias } }],
  patchAlias: [{ params: { number: alias }, body: { authentication: 'disabled' }, ifMatch: '"1"' }],
  sipAuthorize: [{ body: { username: alias } }, { body: { username: 'alice' } }],
  routeNumber: [{ params: { number: alias } }],
  getSystemConfig: [{}],
  patchSystemConfig: [{ body: { aliasAuthentication: 'disabled' }, ifMatch: '"2"' }],
  createDidBatch: [
    { body: { name: 'Berlin', source: 'inventory', pricing: { free: true } } },
    {
      body: {
        name: 'DIDWW',
        source: 'provider',
        provider: 'didww',
        pricing: {
          free: false,
          currency: 'EUR',
          activationFee: '1.00',
          recurringFee: '0.50',
          markupPercent: '10',
          roundingDecimals: 2,
        },
      },
    },
  ],
  listDidBatches: [{}, { query: { limit: '5' } }],
  getDidBatch: [{ params: { id: 'b1' } }],
  importDidNumbers: [
    {
      params: { id: 'b1' },
      body: {
        numbers: [
          {
            number: '+4930100100',
            kind: 'local',
            country: 'DE',
            area: '30',
            activationCost: '1.00',
            recurringCost: '0.99',
          },
        ],
      },
    },
  ],
  listDidOffers: [
    { params: { id: 'c1' }, query: { kind: 'local', country: 'DE' } },
    { params: { id: 'c1' }, query: { kind: 'toll_free', country: 'US', area: '800', limit: '5' } },
  ],
  assignDids: [{ params: { id: 'c1' }, body: { numbers: ['+4930100100', '+4930100101'] } }],
  listCustomerDids: [{ params: { id: 'c1' } }, { params: { id: 'c1' }, query: { limit: '5' } }],
  releaseDid: [{ params: { id: 'c1', number: '+4930100100' } }],
  recordCharge: [
    { params: c1, body: { amount: '0.0125', currency: 'EUR', kind: 'usage', description: 'Call' } },
    {
      params: c1,
      body: {
        amount: '-5',
        currency: 'EUR',
        kind: 'manual',
        description: 'Goodwill credit',
        occurredAt: '2026-11-30T23:59:59+01:00',
      },
    },
  ],
  listInvoices: [{ params: c1 }, { params: c1, query: { limit: '5' } }],
  getInvoice: [{ params: { id: 'c1', period: '2026-11' } }],
  closePeriod: [{ body: { period: '2026-10' } }],
  getPeriodClose: [{ params: { period: '2026-09' } }],
} satisfies Record<RouteName, readonly KnownGoodRequest[]>;

const knownGoodOf = (route: RouteDefinition): readonly KnownGoodRequest[] =>
  (knownGood as Record<string, readonly KnownGoodRequest[] | undefined>)[route.operationId] ?? [];

/** A known-good request in a test's name: its path parameters, query and body. */
const label = (request: KnownGoodRequest) =>
  JSON.stringify({ ...request.params, ...request.query, ...request.body }).slice(0, 80);

/** One request as API Gateway hands it over. */
interface RequestParts {
  readonly claims: Record<string, string>;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly base64?: boolean;
}

function send(route: RouteDefinition, request: RequestParts): Promise<ApiResult> {
  const handler = handlers.get(route.operationId);
  if (!handler) throw new Error(`No handler loaded for ${route.operationId}`);
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(request.params?.[name] ?? ''),
  );
  const event = apiEvent({
    method: route.method,
    path,
    routePath: route.path,
    claims: request.claims,
    pathParameters: request.params,
    query: request.query,
    headers: request.headers,
    body: request.body,
  });
  const encoded =
    request.base64 && request.body !== undefined
      ? { ...event, isBase64Encoded: true, body: Buffer.from(request.body).toString('base64') }
      : event;
  return handler(encoded, lambdaContext());
}

const admin = { role: 'admin' };
const idempotencyKeyHeader = 'contract-key';

/** The known-good request as the admin sends it, with an Idempotency-Key where the route honours one. */
const adminRequest = (route: RouteDefinition, request: KnownGoodRequest): RequestParts => ({
  claims: admin,
  params: request.params,
  query: request.query,
  body: request.body === undefined ? undefined : JSON.stringify(request.body),
  headers: {
    ...(request.ifMatch ? { 'if-match': request.ifMatch } : {}),
    ...(route.idempotent ? { 'idempotency-key': idempotencyKeyHeader } : {}),
  },
});

/** The answer is no 5xx, and a refusal is problem+json with a code the route's row declares. */
function expectDeclaredAnswer(route: RouteDefinition, result: ApiResult) {
  const status = result.statusCode ?? 0;
  const answered = `${route.operationId} answered ${status} ${result.body ?? ''}`;
  expect(status, answered).toBeGreaterThanOrEqual(200);
  expect(status, answered).toBeLessThan(500);
  if (status < 300) return;
  expect(result.headers?.['content-type'], answered).toBe(problemContentType);
  const { code } = JSON.parse(result.body ?? '{}') as { code?: string };
  expect([...declaredErrorCodes(route)], answered).toContain(code);
}

// What was written, read from the commands sent.
type Operation = {
  readonly Key?: Record<string, unknown>;
  readonly Item?: Record<string, unknown>;
  readonly ConditionExpression?: string;
  readonly ReturnValuesOnConditionCheckFailure?: string;
};
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
const operationOf = (transactItem: TransactItem) => Object.values(transactItem)[0] as Operation;
const keyOf = (operation: Operation) => (operation.Key ?? operation.Item ?? {}) as Key;

const isIdempotencyRecord = (key: { readonly pk?: unknown } | undefined) =>
  String(key?.pk).startsWith('IDEMPOTENCY#');

/** The key of every item a write command sent names (a transaction names each of its items). */
const writtenKeys = (): Key[] =>
  [
    ...ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item),
    ...ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key),
    ...ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key),
    ...ddb
      .commandCalls(TransactWriteCommand)
      .flatMap((call) => (call.args[0].input.TransactItems ?? []).map(operationOf).map(keyOf)),
    ...ddb.commandCalls(BatchWriteCommand).flatMap((call) =>
      Object.values(call.args[0].input.RequestItems ?? {})
        .flat()
        .map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key),
    ),
  ].map((key) => (key ?? {}) as Key);

const domainWrites = () => writtenKeys().filter((key) => !isIdempotencyRecord(key));
const idempotencyClaims = () =>
  ddb.commandCalls(PutCommand).filter((call) => isIdempotencyRecord(call.args[0].input.Item))
    .length;
const idempotencyReleases = () =>
  ddb.commandCalls(DeleteCommand).filter((call) => isIdempotencyRecord(call.args[0].input.Key))
    .length;

/** A refusal changed nothing: no write but the idempotency claim, and the claim released. */
function expectNothingWritten(route: RouteDefinition, result: ApiResult) {
  const answered = `${route.operationId} answered ${result.statusCode} ${result.body ?? ''}`;
  expect(domainWrites(), answered).toEqual([]);
  expect(idempotencyReleases(), answered).toBe(idempotencyClaims());
}

/**
 * What UpdateItem answers with ALL_NEW once it succeeded: the item there (its stored
 * version stands in for the updated one), or a customer for a customer key.
 */
const imageAfterUpdate = (key: Key): Item =>
  worldAt(key) ??
  (key.sk === 'CUSTOMER'
    ? customerItem(customer(key.pk.slice('CUSTOMER#'.length)))
    : { ...key, entityType: 'unknown' });

/** DynamoDB accepts every write; queries find nothing. */
function acceptWrites() {
  ddb.on(PutCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(BatchWriteCommand).resolves({});
  ddb
    .on(UpdateCommand)
    .callsFake(async (input: UpdateCommandInput) =>
      input.ReturnValues === 'ALL_NEW' ? { Attributes: imageAfterUpdate(input.Key as Key) } : {},
    );
  ddb.on(QueryCommand).resolves({ Items: [] });
}

beforeEach(() => {
  // The mocked table (test/fixtures/mocked-table.ts) answers reads from what a test stores.
  acceptWrites();
});

describe('the known-good requests', () => {
  it.each(routeList.map((route) => [route.operationId, route] as const))(
    '%s has some',
    (_, route) => {
      expect(knownGoodOf(route).length).toBeGreaterThan(0);
    },
  );

  const rows = routeList.flatMap((route) =>
    knownGoodOf(route).map(
      (request) => [route.operationId, label(request), route, request] as const,
    ),
  );
  it.each(rows)('%s %s answers 2xx against the stored world', async (_, __, route, request) => {
    store(...world);
    const result = await send(route, adminRequest(route, request));
    expect(result.statusCode, result.body).toBeGreaterThanOrEqual(200);
    expect(result.statusCode, result.body).toBeLessThan(300);
  });
});

// (a) Generated requests, against an empty table or the world, whose writes all succeed.

/** Claims of each role, in and out of the stored world's scopes. */
const claimsByRole: Readonly<Record<string, readonly Record<string, string>[]>> = {
  admin: [admin],
  reseller: [
    { role: 'reseller', resellerId: 'r1' },
    { role: 'reseller', resellerId: 'r2' },
  ],
  customer: [
    { role: 'customer', customerId: 'c1' },
    { role: 'customer', customerId: 'br' },
    { role: 'customer', customerId: 'other' },
  ],
  switch: [{ role: 'switch' }],
};
const unusableClaims = fc.constantFrom<Record<string, string>>(
  {},
  { role: 'reseller' },
  { role: 'customer', customerId: '' },
  { role: 'root' },
  { role: 'reseller', resellerId: 'x'.repeat(200) },
);

/** Mostly a role the route admits, so most requests get past 401 and 403. */
function claimsFor(route: RouteDefinition): fc.Arbitrary<Record<string, string>> {
  const allowed = route.auth === 'public' ? Object.keys(claimsByRole) : route.auth;
  const of = (roles: readonly string[]) =>
    fc.constantFrom(...roles.flatMap((role) => claimsByRole[role] ?? []));
  const others = Object.keys(claimsByRole).filter((role) => !allowed.includes(role as never));
  return fc.oneof(
    { weight: 6, arbitrary: of(allowed) },
    { weight: 1, arbitrary: others.length > 0 ? of(others) : unusableClaims },
    { weight: 1, arbitrary: unusableClaims },
  );
}

/** Path-parameter and query values no route should choke on: near-valid, junk, very long, any Unicode. */
const junkText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', minLength: 1 }),
  fc.stringMatching(/^[A-Za-z0-9._~-]{250,300}$/),
  fc.constantFrom('', ' ', '%2B4930123456', '+0', '../CUSTOMER', 'c1#CUSTOMER', 'IDEMPOTENCY#x'),
);
const sampleIds = fc.constantFrom('c1', 'hq', 'br', '01JDQ7ZK3M8V4T2W6X9Y0A1B2C', account, '101');

const encodeCursor = (value: unknown) =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const keyAttributes = ['pk', 'sk', 'allPk', 'nameSk', 'resellerPk', 'mainOfficePk', 'ownerPk'];
const cursors = fc.oneof(
  junkText,
  fc.dictionary(fc.constantFrom(...keyAttributes, 'number'), junkText).map(encodeCursor),
  fc.jsonValue().map(encodeCursor),
  fc
    .constantFrom(
      { pk: 'CUSTOMER#c1', sk: 'CUSTOMER', allPk: 'CUSTOMERS', nameSk: 'customer c1#c1' },
      { pk: `PHONE#${account}`, sk: 'LINE', ownerPk: 'ACCOUNTS#c1', number: account },
    )
    .map(encodeCursor),
  fc
    .constantFrom('EXTENSION#3#101', 'HUNT_GROUP#3#500', 'EXTENSION#9#1', 'HUNT_GROUP#')
    .map((sortKey) => Buffer.from(sortKey).toString('base64url')),
);
const queryValue = fc.oneof(
  fc.constantFrom('1', '25', '100', '0', '101', '-1', '1e2', '2.5', 'main', 'branch', 'cust'),
  junkText,
  cursors,
);

const junkValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'binary' }),
  fc.string({ minLength: 190, maxLength: 260 }),
  fc.constantFrom(null, '', ' ', 'EUR', 'eur', 'XXX', account, '101', 'hq', 'c1', true, 0, -1),
  fc.constantFrom('UTC', '+01:00', 'Mars/Olympus', 'cloud_pbx', 'main', 'branch', 1e308, [], {}),
);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A body one step from a valid one, at any depth: a field dropped, replaced or added. */
function mutated(body: Readonly<Record<string, unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(body);
  const added = fc.tuple(fc.string(), junkValue).map(([key, value]) => ({ ...body, [key]: value }));
  if (keys.length === 0) return added;
  const dropped = fc
    .constantFrom(...keys)
    .map((key) => Object.fromEntries(Object.entries(body).filter(([name]) => name !== key)));
  const replaced = fc.constantFrom(...keys).chain((key) => {
    const inner = body[key];
    const value = isRecord(inner) ? fc.oneof(junkValue, mutated(inner)) : junkValue;
    return value.map((next) => ({ ...body, [key]: next }));
  });
  return fc.oneof(dropped, replaced, added);
}

const oversizedBody = JSON.stringify({ name: 'x'.repeat(300 * 1024) });

/** Values the stored world gives meaning to: its ids, numbers and the panel's settings. */
const worldValues = fc.constantFrom<unknown>(
  null,
  true,
  false,
  'c1',
  'hq',
  'br',
  'b1',
  'absent',
  'main',
  'branch',
  'individual',
  'consolidated',
  'enabled',
  'disabled',
  'system',
  '101',
  '200',
  '500',
  account,
  alias,
  ['101'],
  ['200', '102'],
  ['999'],
);

/**
 * Bodies recombined from the known-good ones: any of their fields, each with a value
 * some known-good body has there (nested objects recombined the same way) or one the
 * world gives meaning to. Mostly valid, they reach the rules behind the schemas.
 */
function recombined(
  goods: readonly Readonly<Record<string, unknown>>[],
): fc.Arbitrary<Record<string, unknown>> {
  const valuesAt = new Map<string, unknown[]>();
  for (const [key, value] of goods.flatMap((body) => Object.entries(body))) {
    valuesAt.set(key, [...(valuesAt.get(key) ?? []), value]);
  }
  const absent = Symbol('absent');
  const fields = [...valuesAt].map(([key, values]) => {
    const objects = values.filter(isRecord);
    const others = values.filter((value) => !isRecord(value));
    const value = fc.oneof(
      ...(others.length > 0 ? [{ weight: 6, arbitrary: fc.constantFrom(...others) }] : []),
      ...(objects.length > 0 ? [{ weight: 6, arbitrary: recombined(objects) }] : []),
      { weight: 1, arbitrary: worldValues },
    );
    // Each field is mostly there: a body needs all its required ones.
    return fc.option(value, { freq: 15, nil: absent }).map((chosen) => [key, chosen] as const);
  });
  return fc
    .tuple(...fields)
    .map((entries) => Object.fromEntries(entries.filter(([, value]) => value !== absent)));
}

function bodies(route: RouteDefinition): fc.Arbitrary<string | undefined> {
  const anyBody = fc.option(fc.oneof(fc.json(), fc.string({ unit: 'binary' })), {
    nil: undefined,
  });
  const good = knownGoodOf(route).flatMap((request) => (request.body ? [request.body] : []));
  if (!route.body || good.length === 0) return anyBody;
  const json = (body: unknown) => JSON.stringify(body);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...good).map(json) },
    { weight: 6, arbitrary: recombined(good).map(json) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...good)
        .chain(mutated)
        .map(json),
    },
    { weight: 1, arbitrary: anyBody },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '{"a":', oversizedBody) },
  );
}

type Strings = Record<string, string>;

/** Some of the fields, each drawn from its arbitrary: the others are absent. */
const someOf = (shape: Record<string, fc.Arbitrary<string>>) =>
  fc.record(shape, { requiredKeys: [] }) as fc.Arbitrary<Strings>;

function pathParameters(route: RouteDefinition): fc.Arbitrary<Strings | undefined> {
  const names = Object.keys(route.params?.shape ?? {});
  if (names.length === 0) return fc.constant(undefined);
  const valuesOf = (name: string) => {
    const good = knownGoodOf(route).flatMap((request) => request.params?.[name] ?? []);
    return fc.oneof(
      { weight: 6, arbitrary: good.length > 0 ? fc.constantFrom(...good) : sampleIds },
      { weight: 1, arbitrary: sampleIds },
      { weight: 1, arbitrary: junkText },
    );
  };
  const shape = Object.fromEntries(names.map((name) => [name, valuesOf(name)]));
  return fc.oneof(
    { weight: 9, arbitrary: fc.record(shape) },
    { weight: 1, arbitrary: someOf(shape) },
  );
}

function queries(route: RouteDefinition): fc.Arbitrary<Strings | undefined> {
  const names = Object.keys(route.query?.shape ?? {});
  const good = knownGoodOf(route).map((request) => request.query && { ...request.query });
  const own = someOf(Object.fromEntries(names.map((name) => [name, queryValue])));
  const withUnknown = someOf(
    Object.fromEntries([...names, 'unknown'].map((name) => [name, queryValue])),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...good) },
    { weight: 3, arbitrary: own },
    { weight: 1, arbitrary: withUnknown },
  );
}

const manyTags = Array.from({ length: 60 }, (_, index) => `"${index}"`).join(', ');
const headersArbitrary = someOf({
  // Mostly the stored customers' version, which the known-good requests match.
  'if-match': fc.oneof(
    { weight: 3, arbitrary: fc.constant('"4"') },
    { weight: 2, arbitrary: fc.constantFrom('*', 'W/"4"', '"1", "2"', '"abc"', '', manyTags) },
    { weight: 1, arbitrary: fc.string() },
  ),
  'idempotency-key': fc.oneof(
    { weight: 6, arbitrary: fc.constant('k1') },
    { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(256)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  ),
});

const requests = (route: RouteDefinition): fc.Arbitrary<RequestParts> =>
  fc.record({
    claims: claimsFor(route),
    params: pathParameters(route),
    query: queries(route),
    headers: headersArbitrary,
    body: bodies(route),
    base64: fc.boolean(),
  });

const runsPerRoute = 500;
const seed = 20_261_128;

/** Stores the world, or nothing. */
function storeWorld(stored: boolean) {
  for (const item of world) {
    if (stored) store(item);
    else unstore(item);
  }
}

describe('(a) generated requests, nothing (or the world) stored, every write accepted', () => {
  describe.each(routeList.map((route) => [route.operationId, route] as const))('%s', (_, route) => {
    it('never answers 5xx nor an undeclared code, and a refusal writes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(requests(route), fc.boolean(), async (request, stored) => {
          storeWorld(stored);
          ddb.resetHistory();
          const result = await send(route, request);
          expectDeclaredAnswer(route, result);
          if (route.method === 'GET') expect(writtenKeys()).toEqual([]);
          if ((result.statusCode ?? 0) >= 400) expectNothingWritten(route, result);
        }),
        { numRuns: runsPerRoute, seed },
      );
    });
  });
});

// (b) Valid requests against the stored world, every write refused by DynamoDB.

type Refusal =
  | { readonly kind: 'conflict' }
  | {
      readonly kind: 'condition';
      /** The item as it was comes back (where the write asked for it and there is one). */
      readonly withItem: boolean;
      /** Only the conditioned write at this position fails (a single write is position 0); else every one. */
      readonly only?: number;
    };

/**
 * DynamoDB refuses the domain's writes, every time: each plain write and each
 * transaction item meets another transaction, or each conditioned one fails its
 * condition. The idempotency record is never in a transaction, so its writes succeed.
 */
function refuseWrites(refusal: Refusal) {
  const failureOfSingle = (key: Key, operation: Operation) => {
    if (isIdempotencyRecord(key)) return undefined;
    if (refusal.kind === 'conflict') return transactionConflict();
    if (operation.ConditionExpression === undefined || (refusal.only ?? 0) !== 0) return undefined;
    return conditionFailed(refusal.withItem ? worldAt(key) : undefined);
  };
  ddb.on(PutCommand).callsFake(async (input: PutCommandInput) => {
    const failure = failureOfSingle(input.Item as Key, input);
    if (failure) throw failure;
    return {};
  });
  ddb.on(DeleteCommand).callsFake(async (input: DeleteCommandInput) => {
    const failure = failureOfSingle(input.Key as Key, input);
    if (failure) throw failure;
    return {};
  });
  ddb.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => {
    const failure = failureOfSingle(input.Key as Key, input);
    if (failure) throw failure;
    return input.ReturnValues === 'ALL_NEW'
      ? { Attributes: imageAfterUpdate(input.Key as Key) }
      : {};
  });
  ddb.on(TransactWriteCommand).callsFake(async (input: TransactWriteCommandInput) => {
    const operations = (input.TransactItems ?? []).map(operationOf);
    const failures: Failure[] =
      refusal.kind === 'conflict'
        ? operations.map((operation) => ({ key: keyOf(operation), code: 'TransactionConflict' }))
        : operations
            .filter((operation) => operation.ConditionExpression !== undefined)
            .filter((_, index) => refusal.only === undefined || index === refusal.only)
            .map((operation) => ({
              key: keyOf(operation),
              was:
                refusal.withItem && operation.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
                  ? worldAt(keyOf(operation))
                  : undefined,
            }));
    if (failures.length === 0) return {};
    throw cancellation(input, failures);
  });
}

const refusals: readonly { readonly name: string; readonly refusal: Refusal }[] = [
  { name: 'every write meets a transaction conflict', refusal: { kind: 'conflict' } },
  ...[false, true].flatMap((withItem) => {
    const as = withItem ? 'the item as it was' : 'no item';
    return [
      {
        name: `every condition fails, with ${as}`,
        refusal: { kind: 'condition', withItem } as const,
      },
      ...[0, 1, 2, 3, 4].map((only) => ({
        name: `conditioned write #${only} fails, with ${as}`,
        refusal: { kind: 'condition', withItem, only } as const,
      })),
    ];
  }),
];

const writingRoutes = routeList.filter((route) => route.method !== 'GET');

describe('(b) valid requests, stored items, DynamoDB refusing the writes', () => {
  describe.each(writingRoutes.map((route) => [route.operationId, route] as const))(
    '%s',
    (_, route) => {
      for (const request of knownGoodOf(route)) {
        for (const { name, refusal } of refusals) {
          it(`${label(request)}: ${name}`, async () => {
            store(...world);
            // The happy path first: whether this request writes at all.
            await send(route, adminRequest(route, request));
            const writes = domainWrites().length;
            ddb.resetHistory();

            refuseWrites(refusal);
            const result = await send(route, adminRequest(route, request));
            expectDeclaredAnswer(route, result);
            if (writes > 0) expect(domainWrites().length).toBeGreaterThan(0);
            if ((result.statusCode ?? 0) >= 300) {
              expect(idempotencyReleases(), 'the claim is released').toBe(idempotencyClaims());
            }
          });
        }
      }
    },
  );
});
