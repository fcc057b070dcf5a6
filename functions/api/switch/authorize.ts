import { authorize } from '../../../lib/domain/phone-lines/switch.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.sipAuthorize, async ({ ctx, body }) => ({
  status: 200,
  body: await authorize(ctx, body.username),
}));
