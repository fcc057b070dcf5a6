import { getDidBatch } from '../../../lib/domain/dids/batches.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(didsRoutes.getDidBatch, async ({ ctx, params }) => {
  const { batch, etag } = await getDidBatch(ctx, params.id);
  return { status: 200, body: batch, headers: { etag } };
});
