import { route } from '../../../lib/domain/phone-lines/switch.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.routeNumber, async ({ ctx, params }) => ({
  status: 200,
  body: await route(ctx, params.number),
}));
