import { listDidBatches } from '../../../lib/domain/dids/batches.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(didsRoutes.listDidBatches, async ({ ctx, query }) => ({
  status: 200,
  body: await listDidBatches(ctx, query),
}));
