import { listInvoices } from '../../../lib/domain/billing/invoices.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { billingRoutes } from '../../../lib/http/routes/billing.js';

export const handler = apiHandler(
  billingRoutes.listInvoices,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listInvoices(ctx, caller, params.id, query),
  }),
);
