import { createCustomer } from '../../../lib/domain/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.createCustomer, async ({ caller, body }) => {
  const { customer, etag } = await createCustomer(sharedServiceContext(), caller, body);
  return { status: 201, body: customer, headers: { location: `/customers/${customer.id}`, etag } };
});
