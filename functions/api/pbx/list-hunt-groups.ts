import { listPbxItems } from '../../../lib/domain/pbx/list.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(
  routes.listHuntGroups,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listPbxItems(ctx, caller, params.id, 'huntGroup', query),
  }),
);
