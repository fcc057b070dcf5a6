import { importNumbers } from '../../../lib/domain/dids/inventory.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(didsRoutes.importDidNumbers, async ({ ctx, params, body }) => ({
  status: 200,
  body: await importNumbers(ctx, params.id, body.numbers),
}));
