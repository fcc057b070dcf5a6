import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../lib/http/route.js';
import { routeList } from '../../lib/http/routes.js';
import { createCustomer } from './support/customers.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * 10,000 generated requests that each break something (the token, the path, the query
 * or the body), across every route, through the local HTTP server: never a 5xx, every
 * answer problem+json with a code, and the table unchanged afterwards.
 */
let api: TestApi;
let db: DynamoDBDocumentClient;
let customerId: string;

beforeAll(async () => {
  api = await startTestApi();
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }));
  customerId = (await createCustomer(api, api.tokens.admin)).id;
  await api.runtime.streamsIdle();
});
afterAll(async () => {
  db?.destroy();
  await api?.stop();
});

async function tableContents(): Promise<string[]> {
  const items: string[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: api.runtime.tableName,
        ExclusiveStartKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []).map((item) => JSON.stringify(item, Object.keys(item).sort())));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items.sort();
}

const guarded = routeList.filter((route) => route.auth !== 'public');
const paramsOf = (route: RouteDefinition) =>
  [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);

/** Path values no id, number or period could be. */
const badParam = fc.oneof(
  fc.constant('x'.repeat(300)),
  fc.constant('%00'),
  fc.constant('a%20b'),
  fc.constant('%F0%9F%92%A9'),
  fc.constant('..%2F..'),
  fc.string({ minLength: 1, maxLength: 5 }).map((text) => `${encodeURIComponent(text)}%25%25`),
);
/** Path values that might be fine: the customer's id, a number, a period, anything. */
const anyParam = () =>
  fc.oneof(
    fc.constant(customerId),
    fc.constant('%2B4930123456'),
    fc.constant('2026-11'),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
  );

const deep = (depth: number): unknown => (depth === 0 ? 1 : [deep(depth - 1)]);
/** Bodies that no route's schema accepts, or no JSON parser. */
const badBody = fc.oneof(
  fc.jsonValue().map((value) => ({ json: { fuzz: value, __unknownField: true } })),
  fc
    .jsonValue()
    .map((value) => ({ json: value }))
    .filter(({ json }) => typeof json !== 'object' || json === null || Array.isArray(json)),
  fc.constant({ raw: '{"unterminated": ' }),
  fc.constant({ raw: 'not json at all' }),
  fc.constant({ raw: '\u0000\u0001' }),
  fc.constant({ json: deep(2000) }),
  fc.constant({ raw: `{"name":"${'x'.repeat(300 * 1024)}"}` }),
);
const badToken = fc.oneof(
  fc.constant(undefined),
  fc.constant('garbage'),
  fc.constant('eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.'),
  fc.string({ maxLength: 40 }),
);

interface Fuzzed {
  readonly route: RouteDefinition;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function requestOf(route: RouteDefinition, broken: 'token' | 'path' | 'body' | 'query') {
  const names = paramsOf(route);
  const extraHeaders: Record<string, string>[] = [
    {},
    { 'if-match': '"1", "2", '.repeat(40) },
    { 'idempotency-key': '' },
    { 'x-forwarded-for': '1.1.1.1' },
  ];
  return fc
    .record({
      good: fc.tuple(...names.map(() => anyParam())),
      bad: fc.tuple(...names.map(() => badParam)),
      badIndex: fc.nat(Math.max(0, names.length - 1)),
      token: broken === 'token' ? badToken : fc.constantFrom(api.tokens.admin, api.tokens.switch),
      body: broken === 'body' ? badBody : fc.constant({ json: {} as unknown }),
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        '',
      ),
      extraHeader: fc.constantFrom(...extraHeaders),
    })
    .map(({ good, bad, badIndex, token, body, contentType, extraHeader }): Fuzzed => {
      let index = 0;
      // With a broken path, one parameter is surely bad; the others may be anything.
      const path = route.path.replace(/\{\w+\}/g, () => {
        const chosen = broken === 'path' && index === badIndex ? bad[index] : good[index];
        index += 1;
        return chosen as string;
      });
      const query = broken === 'query' ? '?__unknown=1&limit=1000' : '';
      const headers: Record<string, string> = { ...extraHeader };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      if (contentType) headers['content-type'] = contentType;
      const text = 'raw' in body ? body.raw : JSON.stringify(body.json);
      return { route, path: `${path}${query}`, headers, body: text };
    });
}

/** For each route, the ways it can be broken: the token always; path, body and query when it has them. */
const fuzzedRequests = () =>
  fc.oneof(
    ...guarded.flatMap((route) => [
      requestOf(route, 'token'),
      ...(paramsOf(route).length > 0 ? [requestOf(route, 'path')] : []),
      ...(route.body ? [requestOf(route, 'body')] : []),
      ...(route.query ? [requestOf(route, 'query')] : []),
    ]),
  );

describe('fuzzing every route', () => {
  it('answers 10,000 broken requests with a 4xx problem+json and writes nothing', async () => {
    const before = await tableContents();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fuzzedRequests(), async (request) => {
        const response = await fetch(`${api.runtime.url}${request.path}`, {
          method: request.route.method,
          headers: request.headers,
          body:
            request.route.method === 'GET' || request.route.method === 'DELETE'
              ? undefined
              : request.body,
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const where = `${request.route.method} ${request.path.slice(0, 120)}`;
        expect(response.status, `${where}: ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
        expect(response.status, where).toBeLessThan(500);
        expect(response.headers.get('content-type'), where).toContain('application/problem+json');
        expect(JSON.parse(text).code, where).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 10_000 },
    );
    await api.runtime.streamsIdle();
    expect(await tableContents()).toEqual(before);
    // Each kind of refusal was met.
    for (const status of [400, 401, 404, 413])
      expect(statuses.get(status), String(status)).toBeGreaterThan(0);
  }, 600_000);
});
