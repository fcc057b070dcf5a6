import { route } from '../../../lib/domain/phone-lines/switch.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { switchRoutes } from '../../../lib/http/routes/switch.js';

export const handler = apiHandler(switchRoutes.routeNumber, async ({ ctx, params }) => ({
  status: 200,
  body: await route(ctx, params.number),
}));
