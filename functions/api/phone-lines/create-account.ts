import { createAccount } from '../../../lib/domain/phone-lines.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.createAccount, async ({ caller, params, body }) => {
  const account = await createAccount(sharedServiceContext(), caller, params.id, body.number);
  return {
    status: 201,
    body: account,
    headers: { location: `/accounts/${encodeURIComponent(account.number)}/aliases` },
  };
});
