import { terminateCustomer } from '../../../lib/domain/termination/terminate.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(
  routes.terminateCustomer,
  async ({ ctx, caller, params, ifMatch }) => {
    const { customer, etag } = await terminateCustomer(ctx, caller, params.id, ifMatch);
    return { status: 200, body: customer, headers: { etag } };
  },
);
