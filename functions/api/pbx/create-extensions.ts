import { createExtension } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { pbxRoutes } from '../../../lib/http/routes/pbx.js';

export const handler = apiHandler(
  pbxRoutes.createExtension,
  async ({ ctx, caller, params, body }) => {
    const created = await createExtension(ctx, caller, params.id, body);
    return {
      status: 201,
      body: created,
      headers: { location: `/customers/${params.id}/extensions/${created.number}` },
    };
  },
);
