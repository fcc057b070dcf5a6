import { afterEach, describe, expect, it } from 'vitest';
import { customerTerminated, notFound } from '../../../../lib/errors.js';
import { apiHandler, undeclaredErrorCodes } from '../../../../lib/http/api-handler.js';
import { defineRoute } from '../../../../lib/http/route.js';
import { customerIdParams } from '../../../../lib/schemas/customers.js';
import { apiEvent, lambdaContext } from '../../../fixtures/api-events.js';
import { unitContext } from '../../../fixtures/service-context.js';

const route = defineRoute({
  operationId: 'probe',
  method: 'POST',
  path: '/probe/{id}',
  entry: 'unused',
  auth: ['admin'],
  summary: 'A route that declares one rule code',
  tags: ['test'],
  params: customerIdParams,
  responses: { 200: { description: 'ok' } },
  errorCodes: ['number_taken'],
});

const call = (error: Error) =>
  apiHandler(
    route,
    async () => {
      throw error;
    },
    () => unitContext,
  )(
    apiEvent({
      method: 'POST',
      path: '/probe/x',
      routePath: '/probe/{id}',
      claims: { role: 'admin' },
      pathParameters: { id: 'x' },
    }),
    lambdaContext(),
  );

afterEach(() => {
  undeclaredErrorCodes.clear();
});

describe('the error codes a route answers', () => {
  it('answers a code the route does not declare, and records it so the suites fail', async () => {
    const result = await call(customerTerminated('x'));
    expect(result.statusCode).toBe(409);
    expect([...undeclaredErrorCodes]).toEqual(['probe customer_terminated']);
  });

  it('records nothing for a code implied by the route’s flags (404 for a path parameter)', async () => {
    const result = await call(notFound());
    expect(result.statusCode).toBe(404);
    expect([...undeclaredErrorCodes]).toEqual([]);
  });
});
