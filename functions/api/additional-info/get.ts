import { getAdditionalInfo } from '../../../lib/domain/hierarchy/panel.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { hierarchyRoutes } from '../../../lib/http/routes/hierarchy.js';

export const handler = apiHandler(
  hierarchyRoutes.getAdditionalInfo,
  async ({ ctx, caller, params }) => {
    const { additionalInfo, etag } = await getAdditionalInfo(ctx, caller, params.id);
    return { status: 200, body: additionalInfo, headers: { etag } };
  },
);
