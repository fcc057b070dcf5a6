import { patchAdditionalInfo } from '../../../lib/domain/hierarchy/panel.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(
  routes.patchAdditionalInfo,
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
