import { getAlias } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(phoneLinesRoutes.getAlias, async ({ ctx, caller, params }) => {
  const { alias, etag } = await getAlias(ctx, caller, params.number);
  return { status: 200, body: alias, headers: { etag } };
});
