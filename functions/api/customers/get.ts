import { getCustomer } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.getCustomer, async ({ ctx, caller, params }) => {
  const { customer, etag } = await getCustomer(ctx, caller, params.id);
  return { status: 200, body: customer, headers: { etag } };
});
