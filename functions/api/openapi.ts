import { apiHandler } from '../../lib/http/api-handler.js';
import { openApiDocument } from '../../lib/http/openapi.js';
import { metaRoutes } from '../../lib/http/routes/meta.js';

let document: unknown;

export const handler = apiHandler(metaRoutes.openapi, async () => {
  document ??= openApiDocument();
  return { status: 200, body: document };
});
