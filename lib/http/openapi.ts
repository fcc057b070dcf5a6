import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { problemSchema } from '../schemas/common.js';
import { problemContentType } from './problem.js';
import type { RouteDefinition } from './route.js';
import { routeList } from './routes.js';

const headerDocs = {
  ETag: {
    description: 'Version of the resource; send it back in If-Match',
    schema: { type: 'string' },
  },
  Location: { description: 'URL of the created resource', schema: { type: 'string' } },
} as const;

const problem = (description: string) => ({
  description,
  content: { [problemContentType]: { schema: problemSchema } },
});

/** The generic answers every route may give, by SPEC §1's check order. */
function errorResponses(route: RouteDefinition) {
  const errors: Record<number, ReturnType<typeof problem>> = {};
  if (route.auth !== 'public') {
    errors[401] = problem('unauthorized: no valid bearer token');
    errors[403] = problem('forbidden: the caller’s role may not use this route');
  }
  if (route.params || route.query || route.body) errors[400] = problem('validation_failed');
  if (route.body) errors[413] = problem('payload_too_large: body over 256 KiB');
  if (route.params) errors[404] = problem('not_found: absent or outside the caller’s scope');
  if (route.idempotent) {
    errors[409] = problem('request_in_progress: the same Idempotency-Key is in flight');
    errors[422] = problem('idempotency_key_reused: the same key with another body');
  }
  if (route.conditional) errors[412] = problem('precondition_failed: stale If-Match');
  for (const code of route.errorCodes ?? []) {
    const status = knownCodeStatus[code];
    if (status) {
      const existing = errors[status]?.description;
      errors[status] = problem(existing ? `${existing}; ${code}` : code);
    }
  }
  return errors;
}

/** The status of each rule's error code, for the routes that name them. */
const knownCodeStatus: Record<string, number> = {
  customer_terminated: 409,
  precondition_failed: 412,
  did_batch_required: 422,
  did_batch_not_found: 404,
  hierarchy_not_allowed: 422,
  main_office_required: 422,
  main_office_not_found: 404,
  main_office_not_main: 422,
  main_office_self: 422,
  reseller_mismatch: 422,
  currency_mismatch: 422,
  office_has_branches: 409,
  invoicing_set_on_main: 422,
  concurrent_update: 409,
  number_taken: 409,
  number_conflict: 409,
  inherited_item: 409,
  extension_in_use: 409,
  unknown_member: 422,
};

/** Builds the OpenAPI 3.1 document from the routes table and the schemas that validate requests. */
export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Claims: role (admin | reseller | customer | switch), resellerId, customerId',
  });
  for (const route of routeList) {
    const headers = z.object({
      ...(route.idempotent ? { 'Idempotency-Key': z.string().min(1).max(255).optional() } : {}),
      ...(route.conditional ? { 'If-Match': z.string().optional() } : {}),
    });
    const responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.headers
            ? {
                headers: Object.fromEntries(
                  response.headers.map((name) => [name, headerDocs[name]]),
                ),
              }
            : {}),
          ...(response.schema
            ? { content: { 'application/json': { schema: response.schema } } }
            : {}),
        },
      ]),
    );
    registry.registerPath({
      operationId: route.operationId,
      method: route.method.toLowerCase() as 'get',
      path: route.path,
      summary: route.summary,
      description: route.description,
      tags: [...route.tags],
      security: route.auth === 'public' ? [] : [{ bearer: [] }],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(Object.keys(headers.shape).length > 0 ? { headers } : {}),
        ...(route.body
          ? { body: { required: true, content: { 'application/json': { schema: route.body } } } }
          : {}),
      },
      responses: { ...responses, ...errorResponses(route) },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Customer Additional info API',
      version: '1.0.0',
      description:
        'The Additional info panel of a telecom billing customer: DID auto-provisioning, the hierarchy of offices and alias authentication defaults. Errors are application/problem+json with a stable `code`.',
    },
  });
}
