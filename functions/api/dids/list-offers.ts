import { listDidOffers } from '../../../lib/domain/dids/provisioning.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(
  didsRoutes.listDidOffers,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listDidOffers(ctx, caller, params.id, query),
  }),
);
