import { listCustomers } from '../../../lib/domain/customers/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { customersRoutes } from '../../../lib/http/routes/customers.js';

export const handler = apiHandler(
  customersRoutes.listCustomers,
  async ({ ctx, caller, query }) => ({
    status: 200,
    body: await listCustomers(ctx, caller, query),
  }),
);
