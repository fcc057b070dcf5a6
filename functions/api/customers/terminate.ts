import { terminateCustomer } from '../../../lib/domain/termination/terminate.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { customersRoutes } from '../../../lib/http/routes/customers.js';

export const handler = apiHandler(
  customersRoutes.terminateCustomer,
  async ({ ctx, caller, params, ifMatch }) => {
    const { customer, etag } = await terminateCustomer(ctx, caller, params.id, ifMatch);
    return { status: 200, body: customer, headers: { etag } };
  },
);
