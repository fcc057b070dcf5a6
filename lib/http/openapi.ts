import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { type ErrorCode, errorCatalog } from '../errors.js';
import { problemSchema } from '../schemas/common.js';
import { problemContentType } from './problem.js';
import { declaredErrorCodes, type RouteDefinition } from './route.js';
import { routeList } from './routes.js';

const headerDocs = {
  ETag: {
    description: 'Version of the resource; send it back in If-Match',
    schema: { type: 'string' },
  },
  Location: { description: 'URL of the created resource', schema: { type: 'string' } },
} as const;

/** The problem answers of a route, grouped by status: each code's status comes from the catalog. */
function errorResponses(route: RouteDefinition) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of declaredErrorCodes(route)) {
    const { status } = errorCatalog[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      {
        description: codes.join('; '),
        content: { [problemContentType]: { schema: problemSchema } },
      },
    ]),
  );
}

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
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      {
        url: 'http://127.0.0.1:3000',
        description: 'The local runtime (npm start; PORT changes the port)',
      },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'A deployed stage (cdk deploy prints its URL)',
        variables: {
          apiId: { default: 'api-id', description: 'The HTTP API id' },
          region: { default: 'us-east-1', description: 'The AWS region' },
        },
      },
    ],
  });
}
