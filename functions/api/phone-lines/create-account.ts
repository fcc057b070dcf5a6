import { createAccount } from '../../../lib/domain/phone-lines/accounts.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { phoneLinesRoutes } from '../../../lib/http/routes/phone-lines.js';

export const handler = apiHandler(
  phoneLinesRoutes.createAccount,
  async ({ ctx, caller, params, body }) => {
    const account = await createAccount(ctx, caller, params.id, body.number);
    return {
      status: 201,
      body: account,
      headers: { location: `/customers/${encodeURIComponent(account.customerId)}/accounts` },
    };
  },
);
