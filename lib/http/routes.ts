import * as z from 'zod';
import {
  additionalInfoSchema,
  branchPage,
  patchAdditionalInfoBody,
} from '../schemas/additional-info.js';
import { healthSchema, paginationQuery } from '../schemas/common.js';
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
  terminateCustomer: defineRoute({
    operationId: 'terminateCustomer',
    method: 'POST',
    path: '/customers/{id}/terminate',
    entry: 'functions/api/customers/terminate.ts',
    auth: managers,
    summary: 'Terminate a customer (and, through the stream, every branch of a main office)',
    description:
      'One conditional write: status terminated, terminatedAt, terminatedBy {reason: requested}. Terminating again answers the customer unchanged. A main office’s branches are terminated asynchronously with terminatedBy {reason: main_office_terminated, mainOfficeId}. Afterwards every change is 409 customer_terminated; reads still work.',
    tags: ['customers'],
    params: customerIdParams,
    conditional: true,
    responses: {
      200: { description: 'The terminated customer', schema: customerSchema, headers: ['ETag'] },
    },
    errorCodes: ['precondition_failed', 'concurrent_update'],
  }),
  getAdditionalInfo: defineRoute({
    operationId: 'getAdditionalInfo',
    method: 'GET',
    path: '/customers/{id}/additional-info',
    entry: 'functions/api/additional-info/get.ts',
    auth: customerReaders,
    summary: 'Read the Additional info panel',
    description:
      'A branch shows its main office’s invoicing; branchCount counts an HQ’s linked branches.',
    tags: ['additional info'],
    params: customerIdParams,
    responses: {
      200: { description: 'The panel', schema: additionalInfoSchema, headers: ['ETag'] },
    },
  }),
  patchAdditionalInfo: defineRoute({
    operationId: 'patchAdditionalInfo',
    method: 'PATCH',
    path: '/customers/{id}/additional-info',
    entry: 'functions/api/additional-info/patch.ts',
    auth: managers,
    summary: 'Change the Additional info panel (merge patch)',
    description:
      'Nested objects merge field by field. Disabling the hierarchy resets office, mainOfficeId and invoicing (other fields sent with enabled: false are ignored). Rules are checked in the order of SPEC §4’s table; the first violated one answers and nothing changes.',
    tags: ['additional info'],
    params: customerIdParams,
    body: patchAdditionalInfoBody,
    conditional: true,
    responses: {
      200: {
        description: 'The panel after the change',
        schema: additionalInfoSchema,
        headers: ['ETag'],
      },
    },
    errorCodes: [
      'did_batch_required',
      'did_batch_not_found',
      'hierarchy_not_allowed',
      'main_office_required',
      'main_office_not_found',
      'main_office_not_main',
      'customer_terminated',
      'main_office_self',
      'reseller_mismatch',
      'currency_mismatch',
      'office_has_branches',
      'invoicing_set_on_main',
      'concurrent_update',
      'precondition_failed',
    ],
  }),
  listBranches: defineRoute({
    operationId: 'listBranches',
    method: 'GET',
    path: '/customers/{id}/branches',
    entry: 'functions/api/customers/branches.ts',
    auth: customerReaders,
    summary: 'The branches linked to a main office, by name',
    tags: ['additional info'],
    params: customerIdParams,
    query: z.strictObject(paginationQuery),
    responses: { 200: { description: 'One page of branches', schema: branchPage } },
  }),
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDefinition[] = Object.values(routes);
