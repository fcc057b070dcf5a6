import { terminateCustomer } from '../../../lib/domain/termination.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.terminateCustomer, async ({ caller, params, ifMatch }) => {
  const { customer, etag } = await terminateCustomer(
    sharedServiceContext(),
    caller,
    params.id,
    ifMatch,
  );
  return { status: 200, body: customer, headers: { etag } };
});
