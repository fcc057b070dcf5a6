import { patchAlias } from '../../../lib/domain/phone-lines/aliases.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(
  routes.patchAlias,
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
