import { listPbxItems } from '../../../lib/domain/pbx/list.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { pbxRoutes } from '../../../lib/http/routes/pbx.js';

export const handler = apiHandler(
  pbxRoutes.listHuntGroups,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listPbxItems(ctx, caller, params.id, 'huntGroup', query),
  }),
);
