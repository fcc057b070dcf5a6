import { patchCustomer } from '../../../lib/domain/customers.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(
  routes.patchCustomer,
  async ({ caller, params, body, ifMatch }) => {
    const { customer, etag } = await patchCustomer(
      sharedServiceContext(),
      caller,
      params.id,
      body,
      ifMatch,
    );
    return { status: 200, body: customer, headers: { etag } };
  },
);
