import * as z from 'zod';
import {
  additionalInfoSchema,
  branchPage,
  patchAdditionalInfoBody,
} from '../../schemas/additional-info.js';
import { paginationQuery } from '../../schemas/common.js';
import { customerIdParams } from '../../schemas/customers.js';
import { defineRoute } from '../route.js';
import { customerReaders, managers } from './roles.js';

export const hierarchyRoutes = {
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
      'Nested objects merge field by field. Disabling the hierarchy resets office, mainOfficeId and invoicing (other fields sent with enabled: false are ignored). Rules are checked in this order and the first violated one answers, changing nothing: did_batch_required, did_batch_not_found, currency_mismatch (a paid batch in another currency), hierarchy_not_allowed, main_office_required, main_office_not_found, main_office_not_main, customer_terminated (the main office is terminated), main_office_self, reseller_mismatch, currency_mismatch, number_conflict, extension_in_use (a branch leaving its main office while its hunt groups use that office’s extensions), office_has_branches, invoicing_set_on_main.',
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
      'number_conflict',
      'extension_in_use',
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
} as const;
