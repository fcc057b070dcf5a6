import { listAliases } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.listAliases, async ({ ctx, caller, params, query }) => ({
  status: 200,
  body: await listAliases(ctx, caller, params.number, query),
}));
