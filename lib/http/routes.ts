import { healthSchema } from '../schemas/common.js';
import {
  createCustomerBody,
  customerIdParams,
  customerPage,
  customerSchema,
  listCustomersQuery,
  patchCustomerBody,
} from '../schemas/customers.js';
import { defineRoute, type RouteDefinition } from './route.js';

const managers = ['admin', 'reseller'] as const;
const customerReaders = ['admin', 'reseller', 'customer'] as const;

/** The routes table: the single source for CDK, the local server and OpenAPI. */
export const routes = {
  health: defineRoute({
    operationId: 'health',
    method: 'GET',
    path: '/health',
    entry: 'functions/api/health.ts',
    auth: 'public',
    summary: 'Liveness check',
    tags: ['meta'],
    responses: { 200: { description: 'The API answers', schema: healthSchema } },
  }),
  openapi: defineRoute({
    operationId: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    entry: 'functions/api/openapi.ts',
    auth: 'public',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    responses: { 200: { description: 'The OpenAPI document' } },
  }),
  createCustomer: defineRoute({
    operationId: 'createCustomer',
    method: 'POST',
    path: '/customers',
    entry: 'functions/api/customers/create.ts',
    auth: managers,
    summary: 'Create a customer',
    description:
      'A reseller creates customers of its own: resellerId defaults to its claim and naming another is 403.',
    tags: ['customers'],
    body: createCustomerBody,
    idempotent: true,
    responses: {
      201: { description: 'Created', schema: customerSchema, headers: ['Location', 'ETag'] },
    },
  }),
  listCustomers: defineRoute({
    operationId: 'listCustomers',
    method: 'GET',
    path: '/customers',
    entry: 'functions/api/customers/list.ts',
    auth: customerReaders,
    summary: 'List the customers in the caller’s scope, by name',
    tags: ['customers'],
    query: listCustomersQuery,
    responses: { 200: { description: 'One page', schema: customerPage } },
  }),
  getCustomer: defineRoute({
    operationId: 'getCustomer',
    method: 'GET',
    path: '/customers/{id}',
    entry: 'functions/api/customers/get.ts',
    auth: customerReaders,
    summary: 'Read a customer',
    tags: ['customers'],
    params: customerIdParams,
    responses: { 200: { description: 'The customer', schema: customerSchema, headers: ['ETag'] } },
  }),
  patchCustomer: defineRoute({
    operationId: 'patchCustomer',
    method: 'PATCH',
    path: '/customers/{id}',
    entry: 'functions/api/customers/patch.ts',
    auth: managers,
    summary: 'Rename a customer or change its time zone',
    tags: ['customers'],
    params: customerIdParams,
    body: patchCustomerBody,
    conditional: true,
    responses: {
      200: { description: 'The changed customer', schema: customerSchema, headers: ['ETag'] },
    },
    errorCodes: ['customer_terminated', 'precondition_failed'],
  }),
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDefinition[] = Object.values(routes);
