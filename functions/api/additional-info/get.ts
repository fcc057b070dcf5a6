import { getAdditionalInfo } from '../../../lib/domain/hierarchy/panel.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.getAdditionalInfo, async ({ ctx, caller, params }) => {
  const { additionalInfo, etag } = await getAdditionalInfo(ctx, caller, params.id);
  return { status: 200, body: additionalInfo, headers: { etag } };
});
