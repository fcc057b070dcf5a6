import { listPbxItems } from '../../../lib/domain/pbx.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.listHuntGroups, async ({ caller, params, query }) => ({
  status: 200,
  body: await listPbxItems(sharedServiceContext(), caller, params.id, 'huntGroup', query),
}));
