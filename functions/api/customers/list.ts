import { listCustomers } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';

export const handler = apiHandler(routes.listCustomers, async ({ ctx, caller, query }) => ({
  status: 200,
  body: await listCustomers(ctx, caller, query),
}));
