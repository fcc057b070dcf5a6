import { createAlias } from '../../../lib/domain/phone-lines.js';
import { readSystemConfig } from '../../../lib/domain/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.createAlias, async ({ caller, params, body }) => {
  const alias = await createAlias(
    sharedServiceContext(),
    caller,
    params.number,
    body,
    readSystemConfig,
  );
  return {
    status: 201,
    body: alias,
    headers: { location: `/aliases/${encodeURIComponent(alias.number)}` },
  };
});
