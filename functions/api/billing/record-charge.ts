import { recordCharge } from '../../../lib/domain/billing/charges.js';
import { apiHandler, jsonResponse } from '../../../lib/http/api-handler.js';
import { storedResponseOf } from '../../../lib/http/idempotency.js';
import { billingRoutes } from '../../../lib/http/routes/billing.js';
import type { ChargeView } from '../../../lib/schemas/billing.js';

const created = (charge: ChargeView) => ({ status: 201, body: charge });

export const handler = apiHandler(
  billingRoutes.recordCharge,
  async ({ ctx, params, body, idempotency }) => {
    const outcome = await recordCharge(
      ctx,
      params.id,
      body,
      idempotency && {
        request: idempotency,
        storedAs: (charge) => storedResponseOf(jsonResponse(created(charge))),
      },
    );
    return 'replay' in outcome ? outcome : created(outcome.result);
  },
);
