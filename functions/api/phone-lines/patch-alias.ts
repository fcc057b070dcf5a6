import { patchAlias } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(
  phoneLinesRoutes.patchAlias,
  async ({ ctx, caller, params, body, ifMatch }) => {
    const { alias, etag } = await patchAlias(
      ctx,
      caller,
      params.number,
      body.authentication,
      ifMatch,
    );
    return { status: 200, body: alias, headers: { etag } };
  },
);
