import { listCustomers } from '../../../lib/domain/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.listCustomers, async ({ caller, query }) => ({
  status: 200,
  body: await listCustomers(sharedServiceContext(), caller, query),
}));
