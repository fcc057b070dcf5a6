import { createCustomer } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { customersRoutes } from '../../../lib/http/routes/customers.js';

export const handler = apiHandler(customersRoutes.createCustomer, async ({ ctx, caller, body }) => {
  const { customer, etag } = await createCustomer(ctx, caller, body);
  return { status: 201, body: customer, headers: { location: `/customers/${customer.id}`, etag } };
});
