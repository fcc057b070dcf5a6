import {
  chargeSchema,
  closePeriodBody,
  invoicePage,
  invoiceParams,
  invoiceSchema,
  listInvoicesQuery,
  periodCloseParams,
  periodCloseSchema,
  recordChargeBody,
} from '../../schemas/billing.js';
import { customerIdParams } from '../../schemas/customers.js';
import { defineRoute } from '../route.js';
import { adminOnly, customerReaders, switchFacing } from './roles.js';

export const billingRoutes = {
  recordCharge: defineRoute({
    operationId: 'recordCharge',
    method: 'POST',
    path: '/customers/{id}/charges',
    entry: 'functions/api/billing/record-charge.ts',
    auth: switchFacing,
    summary: 'Record a charge (the switch’s hot path: one call per rated call)',
    description:
      'One DynamoDB round trip, an Idempotency-Key included (its record is written in the same transaction). The currency must be the customer’s (422 currency_mismatch). A terminated customer’s late usage is still recorded. Only a manual charge may be negative (a credit); amounts are exact decimal strings with at most 6 decimals, below 10^9 either way. occurredAt (default now) may carry an offset; it is answered in UTC and may be at most 1 day ahead. The charge reaches its invoice from the table’s stream within seconds, exactly once; its period is its occurredAt’s month in the customer’s timezone when it is counted, or the next open period when that one is closed.',
    tags: ['billing'],
    params: customerIdParams,
    body: recordChargeBody,
    idempotent: 'inServiceTransaction',
    responses: { 201: { description: 'Recorded', schema: chargeSchema } },
    errorCodes: ['currency_mismatch', 'concurrent_update'],
  }),
  listInvoices: defineRoute({
    operationId: 'listInvoices',
    method: 'GET',
    path: '/customers/{id}/invoices',
    entry: 'functions/api/billing/list-invoices.ts',
    auth: customerReaders,
    summary: 'The customer’s invoices, newest period first',
    description:
      'Only periods with charges counted are listed. A main office’s consolidated view is on each invoice read on its own.',
    tags: ['billing'],
    params: customerIdParams,
    query: listInvoicesQuery,
    responses: { 200: { description: 'One page', schema: invoicePage } },
  }),
  getInvoice: defineRoute({
    operationId: 'getInvoice',
    method: 'GET',
    path: '/customers/{id}/invoices/{period}',
    entry: 'functions/api/billing/get-invoice.ts',
    auth: customerReaders,
    summary: 'One invoice, with the consolidated view on a main office’s',
    description:
      'A period without charges answers its empty open invoice. Under consolidated invoicing a branch’s invoice names consolidatedInto, and the main office’s carries consolidated: its own total plus every branch part, whose sum it always is. The ETag changes whenever anything shown does.',
    tags: ['billing'],
    params: invoiceParams,
    responses: { 200: { description: 'The invoice', schema: invoiceSchema, headers: ['ETag'] } },
  }),
  closePeriod: defineRoute({
    operationId: 'closePeriod',
    method: 'POST',
    path: '/billing/close-period',
    entry: 'functions/api/billing/close-period.ts',
    auth: adminOnly,
    summary:
      'Close a billing period: charge every assigned DID its recurring price, then close the invoices',
    description:
      'Starts the close as a chunked job (202) and answers it; the monthly schedule runs the same job. Idempotent: a period whose close has started answers its job as it stands (200) and adds nothing. A period that has not ended in every timezone (until 12:00 UTC on the next month’s first day) is 409 period_not_ended. Follow the job with GET /billing/close-period/{period}. Charges arriving for a closed period are counted in the next open one; the recurring charges of the close itself are counted in the closed period.',
    tags: ['billing'],
    body: closePeriodBody,
    responses: {
      202: { description: 'Started', schema: periodCloseSchema },
      200: { description: 'Started before: the job as it stands', schema: periodCloseSchema },
    },
    errorCodes: ['period_not_ended', 'concurrent_update'],
  }),
  getPeriodClose: defineRoute({
    operationId: 'getPeriodClose',
    method: 'GET',
    path: '/billing/close-period/{period}',
    entry: 'functions/api/billing/get-period-close.ts',
    auth: adminOnly,
    summary: 'The progress of a period’s close',
    tags: ['billing'],
    params: periodCloseParams,
    responses: { 200: { description: 'The job', schema: periodCloseSchema } },
  }),
};
