import { assignDids } from '../../../lib/domain/dids/assignment.js';
import { apiHandler, jsonResponse } from '../../../lib/http/api-handler.js';
import { storedResponseOf } from '../../../lib/http/idempotency.js';
import { didsRoutes } from '../../../lib/http/routes/dids.js';
import type { AssignedDids } from '../../../lib/schemas/customer-dids.js';

const created = (result: AssignedDids) => ({ status: 201, body: result });

export const handler = apiHandler(
  didsRoutes.assignDids,
  async ({ ctx, caller, params, body, idempotency }) => {
    const outcome = await assignDids(
      ctx,
      caller,
      params.id,
      body.numbers,
      idempotency && {
        request: idempotency,
        storedAs: (result) => storedResponseOf(jsonResponse(created(result))),
      },
    );
    return 'replay' in outcome ? outcome : created(outcome.result);
  },
);
