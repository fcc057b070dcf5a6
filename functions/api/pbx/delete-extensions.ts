import { deletePbxItem } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.deleteExtension, async ({ ctx, caller, params }) => {
  await deletePbxItem(ctx, caller, params.id, 'extension', params.number);
  return { status: 204 };
});
