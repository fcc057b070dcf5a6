import { apiHandler } from '../../lib/http/api-handler.js';
import { metaRoutes } from '../../lib/http/routes/meta.js';

export const handler = apiHandler(metaRoutes.health, async () => ({
  status: 200,
  body: { status: 'ok' },
}));
