import { getCustomer } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { customersRoutes } from '../../../lib/http/routes/customers.js';

export const handler = apiHandler(customersRoutes.getCustomer, async ({ ctx, caller, params }) => {
  const { customer, etag } = await getCustomer(ctx, caller, params.id);
  return { status: 200, body: customer, headers: { etag } };
});
