import { patchAdditionalInfo } from '../../../lib/domain/hierarchy/panel.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { hierarchyRoutes } from '../../../lib/http/routes/hierarchy.js';

export const handler = apiHandler(
  hierarchyRoutes.patchAdditionalInfo,
  async ({ ctx, caller, params, body, ifMatch }) => {
    const { additionalInfo, etag } = await patchAdditionalInfo(
      ctx,
      caller,
      params.id,
      body,
      ifMatch,
    );
    return { status: 200, body: additionalInfo, headers: { etag } };
  },
);
