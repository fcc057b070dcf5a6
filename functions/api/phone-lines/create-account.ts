import { createAccount } from '../../../lib/domain/phone-lines/accounts.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.createAccount, async ({ ctx, caller, params, body }) => {
  const account = await createAccount(ctx, caller, params.id, body.number);
  return {
    status: 201,
    body: account,
    headers: { location: `/accounts/${encodeURIComponent(account.number)}/aliases` },
  };
});
