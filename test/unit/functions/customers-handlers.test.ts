import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createHandler } from '../../../functions/api/customers/create.js';
import { handler as getHandler } from '../../../functions/api/customers/get.js';
import { handler as patchHandler } from '../../../functions/api/customers/patch.js';
import { digestOf } from '../../../lib/data/idempotency-record.js';
import { canonicalJson } from '../../../lib/http/idempotency.js';
import { apiEvent, lambdaContext } from '../../fixtures/api-events.js';

const ddb = mockClient(DynamoDBDocumentClient);
const admin = { role: 'admin' };
const id = '01JDQ7ZK3M8V4T2W6X9Y0A1B2C';

beforeEach(() => {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  ddb.on(GetCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
});

const post = (body: string | undefined, claims: Record<string, string> = admin, headers = {}) =>
  createHandler(
    apiEvent({ method: 'POST', path: '/customers', claims, body, headers }),
    lambdaContext(),
  );

describe('POST /customers handler', () => {
  it('answers 201 with problem-free JSON, Location and ETag after one write', async () => {
    const result = await post(
      JSON.stringify({ name: 'A', businessModel: 'mobile', currency: 'GBP' }),
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', etag: '"1"' });
    expect(result.headers?.location).toMatch(/^\/customers\/[0-9A-Z]{26}$/);
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers a server fault with a generic 500 that leaks nothing', async () => {
    ddb.on(PutCommand).rejects(new Error('secret internal detail'));
    const result = await post(
      JSON.stringify({ name: 'A', businessModel: 'mobile', currency: 'GBP' }),
    );
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret');
    expect(JSON.parse(result.body ?? '')).toMatchObject({ code: 'internal_error' });
  });

  it('claims the idempotency key, does the work, then records the answer', async () => {
    const result = await post(
      JSON.stringify({ name: 'A', businessModel: 'mobile', currency: 'GBP' }),
      admin,
      { 'idempotency-key': 'k1' },
    );
    expect(result.statusCode).toBe(201);
    const [claim, work, record] = ddb.calls().map((call) => call.args[0]);
    expect(claim).toBeInstanceOf(PutCommand);
    expect((claim as PutCommand).input.Item).toMatchObject({
      status: 'in_progress',
      entityType: 'idempotencyRecord',
    });
    expect(work).toBeInstanceOf(PutCommand);
    expect(record).toBeInstanceOf(UpdateCommand);
    expect(Object.values((record as UpdateCommand).input.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining([expect.objectContaining({ statusCode: 201 })]),
    );
  });

  const body = { name: 'A', businessModel: 'mobile', currency: 'GBP' };
  const completedRecord = (requestBody: unknown) =>
    new ConditionalCheckFailedException({
      message: 'exists',
      $metadata: {},
      Item: marshall({
        digest: 'digest-of-the-scope',
        status: 'completed',
        requestDigest: digestOf(canonicalJson(requestBody)),
        expiresAt: 9_999_999_999,
        leaseExpiresAt: 0,
        response: { statusCode: 201, headers: { etag: '"1"' }, body: '{"id":"first"}' },
      }),
    });

  it('replays a completed answer without doing the work again', async () => {
    ddb
      .on(PutCommand)
      .rejectsOnce(completedRecord({ currency: 'GBP', name: 'A', businessModel: 'mobile' }));
    const result = await post(JSON.stringify(body), admin, { 'idempotency-key': 'k1' });
    expect(result).toMatchObject({ statusCode: 201, body: '{"id":"first"}' });
    expect(result.headers).toMatchObject({ 'idempotent-replayed': 'true' });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('refuses the key with another body as 422 and writes nothing', async () => {
    ddb.on(PutCommand).rejectsOnce(completedRecord({ ...body, name: 'B' }));
    const result = await post(JSON.stringify(body), admin, { 'idempotency-key': 'k1' });
    expect(result.statusCode).toBe(422);
    expect(ddb.calls()).toHaveLength(1);
  });
});

describe('GET and PATCH /customers/{id} handlers', () => {
  it('answers 404 problem+json for an absent customer', async () => {
    const result = await getHandler(
      apiEvent({
        method: 'GET',
        path: `/customers/${id}`,
        routePath: '/customers/{id}',
        claims: admin,
        pathParameters: { id },
      }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
  });

  it('answers 403 to a customer trying to change itself, before reading the body', async () => {
    const result = await patchHandler(
      apiEvent({
        method: 'PATCH',
        path: `/customers/${id}`,
        claims: { role: 'customer', customerId: id },
        pathParameters: { id },
        body: 'not json',
      }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(403);
    expect(ddb.calls()).toHaveLength(0);
  });
});
