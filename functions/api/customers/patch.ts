import { patchCustomer } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { customersRoutes } from '../../../lib/http/routes/customers.js';

export const handler = apiHandler(
  customersRoutes.patchCustomer,
  async ({ ctx, caller, params, body, ifMatch }) => {
    const { customer, etag } = await patchCustomer(ctx, caller, params.id, body, ifMatch);
    return { status: 200, body: customer, headers: { etag } };
  },
);
