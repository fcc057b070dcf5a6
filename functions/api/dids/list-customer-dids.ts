import { listCustomerDids } from '../../../lib/domain/dids/release.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(
  didsRoutes.listCustomerDids,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listCustomerDids(ctx, caller, params.id, query),
  }),
);
