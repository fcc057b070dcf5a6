import { getAlias } from '../../../lib/domain/phone-lines.js';
import { readSystemConfig } from '../../../lib/domain/system-config.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.getAlias, async ({ caller, params }) => ({
  status: 200,
  body: await getAlias(sharedServiceContext(), caller, params.number, readSystemConfig),
}));
