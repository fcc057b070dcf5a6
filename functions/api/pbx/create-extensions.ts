import { createExtension } from '../../../lib/domain/pbx.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.createExtension, async ({ caller, params, body }) => {
  const created = await createExtension(sharedServiceContext(), caller, params.id, body);
  return {
    status: 201,
    body: created,
    headers: { location: `/customers/${params.id}/extensions/${created.number}` },
  };
});
