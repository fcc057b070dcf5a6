import { createHuntGroup } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { pbxRoutes } from '../../../lib/http/routes/pbx.js';

export const handler = apiHandler(
  pbxRoutes.createHuntGroup,
  async ({ ctx, caller, params, body }) => {
    const created = await createHuntGroup(ctx, caller, params.id, body);
    return {
      status: 201,
      body: created,
      headers: { location: `/customers/${params.id}/hunt-groups/${created.number}` },
    };
  },
);
