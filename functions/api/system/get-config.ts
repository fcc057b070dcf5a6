import { getSystemConfig } from '../../../lib/domain/phone-lines/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { systemRoutes } from '../../../lib/http/routes/system.js';

export const handler = apiHandler(systemRoutes.getSystemConfig, async ({ ctx }) => {
  const { config, etag } = await getSystemConfig(ctx);
  return { status: 200, body: config, headers: { etag } };
});
