import {
  createCustomerBody,
  customerIdParams,
  customerPage,
  customerSchema,
  listCustomersQuery,
  patchCustomerBody,
} from '../../schemas/customers.js';
import { defineRoute } from '../route.js';
import { customerReaders, managers } from './roles.js';

export const customersRoutes = {
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
    errorCodes: ['concurrent_update'],
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
    errorCodes: ['customer_terminated', 'precondition_failed', 'concurrent_update'],
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
} as const;
