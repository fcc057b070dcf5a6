import { listBranches } from '../../../lib/domain/hierarchy/branches.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { hierarchyRoutes } from '../../../lib/http/routes/hierarchy.js';

export const handler = apiHandler(
  hierarchyRoutes.listBranches,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listBranches(ctx, caller, params.id, query),
  }),
);
