import { readPeriodClose } from '../../../lib/domain/billing/period-close.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { billingRoutes } from '../../../lib/http/routes/billing.js';

export const handler = apiHandler(billingRoutes.getPeriodClose, async ({ ctx, params }) => ({
  status: 200,
  body: await readPeriodClose(ctx, params.period),
}));
