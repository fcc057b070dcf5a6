import { getCustomer } from '../../../lib/domain/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.getCustomer, async ({ caller, params }) => {
  const { customer, etag } = await getCustomer(sharedServiceContext(), caller, params.id);
  return { status: 200, body: customer, headers: { etag } };
});
