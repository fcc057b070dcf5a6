import { getAdditionalInfo } from '../../../lib/domain/additional-info.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(routes.getAdditionalInfo, async ({ caller, params }) => {
  const { additionalInfo, etag } = await getAdditionalInfo(
    sharedServiceContext(),
    caller,
    params.id,
  );
  return { status: 200, body: additionalInfo, headers: { etag } };
});
