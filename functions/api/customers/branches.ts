import { listBranches } from '../../../lib/domain/hierarchy/branches.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.listBranches, async ({ ctx, caller, params, query }) => ({
  status: 200,
  body: await listBranches(ctx, caller, params.id, query),
}));
