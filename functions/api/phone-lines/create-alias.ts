import { createAlias } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(
  phoneLinesRoutes.createAlias,
  async ({ ctx, caller, params, body }) => {
    const alias = await createAlias(ctx, caller, params.number, body);
    return {
      status: 201,
      body: alias,
      headers: { location: `/aliases/${encodeURIComponent(alias.number)}` },
    };
  },
);
