import { listBranches } from '../../../lib/domain/additional-info.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.listBranches, async ({ caller, params, query }) => ({
  status: 200,
  body: await listBranches(sharedServiceContext(), caller, params.id, query),
}));
