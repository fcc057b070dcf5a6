import { apiHandler } from '../../lib/http/api-handler.js';
import { openApiDocument } from '../../lib/http/openapi.js';
import { routes } from '../../lib/http/routes.js';

let document: unknown;

export const handler = apiHandler(routes.openapi, async () => {
  document ??= openApiDocument();
  return { status: 200, body: document };
});
