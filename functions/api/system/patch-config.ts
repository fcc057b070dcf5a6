import { patchSystemConfig } from '../../../lib/domain/phone-lines/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { systemRoutes } from '../../../lib/http/routes/system.js';

export const handler = apiHandler(
  systemRoutes.patchSystemConfig,
  async ({ ctx, body, ifMatch }) => {
    const { config, etag } = await patchSystemConfig(ctx, body, ifMatch);
    return { status: 200, body: config, headers: { etag } };
  },
);
