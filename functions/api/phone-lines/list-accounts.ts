import { listAccounts } from '../../../lib/domain/phone-lines/accounts.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.listAccounts, async ({ ctx, caller, params, query }) => ({
  status: 200,
  body: await listAccounts(ctx, caller, params.id, query),
}));
