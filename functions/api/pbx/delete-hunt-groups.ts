import { deletePbxItem } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.deleteHuntGroup, async ({ ctx, caller, params }) => {
  await deletePbxItem(ctx, caller, params.id, 'huntGroup', params.number);
  return { status: 204 };
});
