import { readInvoice } from '../../../lib/domain/billing/invoices.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { billingRoutes } from '../../../lib/http/routes/billing.js';

export const handler = apiHandler(billingRoutes.getInvoice, async ({ ctx, caller, params }) => {
  const { invoice, etag } = await readInvoice(ctx, caller, params.id, params.period);
  return { status: 200, body: invoice, headers: { etag } };
});
