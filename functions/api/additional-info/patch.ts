import { patchAdditionalInfo } from '../../../lib/domain/additional-info.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { routes } from '../../../lib/http/routes.js';
import { sharedServiceContext } from '../../../lib/service-context.js';

export const handler = apiHandler(
  routes.patchAdditionalInfo,
  async ({ caller, params, body, ifMatch }) => {
    const { additionalInfo, etag } = await patchAdditionalInfo(
      sharedServiceContext(),
      caller,
      params.id,
      body,
      ifMatch,
    );
    return { status: 200, body: additionalInfo, headers: { etag } };
  },
);
