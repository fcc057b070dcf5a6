import { listAccounts } from '../../../lib/domain/phone-lines/accounts.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(
  phoneLinesRoutes.listAccounts,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listAccounts(ctx, caller, params.id, query),
  }),
);
