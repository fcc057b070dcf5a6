import { startPeriodClose } from '../../../lib/domain/billing/period-close.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { billingRoutes } from '../../../lib/http/routes/billing.js';

export const handler = apiHandler(billingRoutes.closePeriod, async ({ ctx, body }) => {
  const { close, started } = await startPeriodClose(ctx, body.period);
  return { status: started ? 202 : 200, body: close };
});
