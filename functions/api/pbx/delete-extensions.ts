import { deletePbxItem } from '../../../lib/domain/pbx.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.deleteExtension, async ({ caller, params }) => {
  await deletePbxItem(sharedServiceContext(), caller, params.id, 'extension', params.number);
  return { status: 204 };
});
