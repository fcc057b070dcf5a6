import { authorize } from '../../../lib/domain/phone-lines/switch.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { switchRoutes } from '../../../lib/http/routes/switch.js';

export const handler = apiHandler(switchRoutes.sipAuthorize, async ({ ctx, body }) => ({
  status: 200,
  body: await authorize(ctx, body.username),
}));
