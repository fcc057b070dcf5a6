import { apiHandler } from '../../lib/http/api-handler.js';
import { routes } from '../../lib/http/routes.js';

export const handler = apiHandler(routes.health, async () => ({
  status: 200,
  body: { status: 'ok' },
}));
