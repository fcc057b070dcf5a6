import { patchSystemConfig } from '../../../lib/domain/phone-lines/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.patchSystemConfig, async ({ ctx, body, ifMatch }) => {
  const { config, etag } = await patchSystemConfig(ctx, body, ifMatch);
  return { status: 200, body: config, headers: { etag } };
});
