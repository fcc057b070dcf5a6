import {
  createDidBatchBody,
  didBatchPage,
  didBatchParams,
  didBatchSchema,
  importNumbersBody,
  importResultSchema,
  listDidBatchesQuery,
} from '../../schemas/did-batches.js';
import { defineRoute } from '../route.js';
import { adminOnly } from './roles.js';

export const didsRoutes = {
  createDidBatch: defineRoute({
    operationId: 'createDidBatch',
    method: 'POST',
    path: '/did-batches',
    entry: 'functions/api/dids/create-batch.ts',
    auth: adminOnly,
    summary: 'Create a DID pricing batch',
    description:
      'Names are unique case-insensitively (409 name_taken, also under concurrent creation). provider is required exactly when source is provider. Batches are not changed or deleted once created.',
    tags: ['dids'],
    body: createDidBatchBody,
    idempotent: true,
    responses: {
      201: { description: 'Created', schema: didBatchSchema, headers: ['Location', 'ETag'] },
    },
    errorCodes: ['name_taken', 'concurrent_update'],
  }),
  listDidBatches: defineRoute({
    operationId: 'listDidBatches',
    method: 'GET',
    path: '/did-batches',
    entry: 'functions/api/dids/list-batches.ts',
    auth: adminOnly,
    summary: 'List the DID batches by name (case-insensitive order)',
    tags: ['dids'],
    query: listDidBatchesQuery,
    responses: { 200: { description: 'One page', schema: didBatchPage } },
  }),
  getDidBatch: defineRoute({
    operationId: 'getDidBatch',
    method: 'GET',
    path: '/did-batches/{id}',
    entry: 'functions/api/dids/get-batch.ts',
    auth: adminOnly,
    summary: 'Read a DID batch',
    tags: ['dids'],
    params: didBatchParams,
    responses: { 200: { description: 'The batch', schema: didBatchSchema, headers: ['ETag'] } },
  }),
  importDidNumbers: defineRoute({
    operationId: 'importDidNumbers',
    method: 'POST',
    path: '/did-batches/{id}/numbers',
    entry: 'functions/api/dids/import-numbers.ts',
    auth: adminOnly,
    summary: 'Add up to 1,000 numbers to an inventory batch, as available',
    description:
      'A number already in the inventory (of any batch) is rejected with reason duplicate while the others land, also when two imports race. An entry that breaks the schema, more than 1,000 entries, or a number named twice in the call rejects the whole call (400) and writes nothing. A provider batch takes no imported numbers: 409 batch_not_inventory.',
    tags: ['dids'],
    params: didBatchParams,
    body: importNumbersBody,
    idempotent: true,
    responses: {
      200: { description: 'What was added and what was rejected', schema: importResultSchema },
    },
    errorCodes: ['batch_not_inventory', 'concurrent_update'],
  }),
} as const;
