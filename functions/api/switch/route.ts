import { route } from '../../../lib/domain/phone-lines.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.routeNumber, async ({ params }) => ({
  status: 200,
  body: await route(sharedServiceContext(), params.number),
}));
