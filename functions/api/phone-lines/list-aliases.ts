import { listAliases } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(
  phoneLinesRoutes.listAliases,
  async ({ ctx, caller, params, query }) => ({
    status: 200,
    body: await listAliases(ctx, caller, params.number, query),
  }),
);
