import { patchCustomer } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(
  routes.patchCustomer,
  async ({ ctx, caller, params, body, ifMatch }) => {
    const { customer, etag } = await patchCustomer(ctx, caller, params.id, body, ifMatch);
    return { status: 200, body: customer, headers: { etag } };
  },
);
