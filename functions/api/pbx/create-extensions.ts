import { createExtension } from '../../../lib/domain/pbx/items.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.createExtension, async ({ ctx, caller, params, body }) => {
  const created = await createExtension(ctx, caller, params.id, body);
  return {
    status: 201,
    body: created,
    headers: { location: `/customers/${params.id}/extensions/${created.number}` },
  };
});
