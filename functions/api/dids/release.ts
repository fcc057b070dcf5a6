import { releaseDid } from '../../../lib/domain/dids/release.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';

export const handler = apiHandler(didsRoutes.releaseDid, async ({ ctx, caller, params }) => {
  await releaseDid(ctx, caller, params.id, params.number);
  return { status: 204 };
});
