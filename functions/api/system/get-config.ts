import { getSystemConfig } from '../../../lib/domain/phone-lines/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.getSystemConfig, async ({ ctx }) => {
  const { config, etag } = await getSystemConfig(ctx);
  return { status: 200, body: config, headers: { etag } };
});
