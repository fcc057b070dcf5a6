import { deletePbxItem } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { pbxRoutes } from '../../../lib/http/routes/pbx.js';

export const handler = apiHandler(pbxRoutes.deleteExtension, async ({ ctx, caller, params }) => {
  await deletePbxItem(ctx, caller, params.id, 'extension', params.number);
  return { status: 204 };
});
