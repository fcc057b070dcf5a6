import { createDidBatch } from '../../../lib/domain/dids/batches.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(didsRoutes.createDidBatch, async ({ ctx, body }) => {
  const { batch, etag } = await createDidBatch(ctx, body);
  return { status: 201, body: batch, headers: { location: `/did-batches/${batch.id}`, etag } };
});
