import { type Charge, charges } from '../../data/charge.js';
import { type CustomerRecord, customers } from '../../data/customer.js';
import { and, eq, exists, notExists } from '../../data/expressions.js';
import {
  IdempotentReplay,
  type IdempotentRequest,
  recordAnswer,
  type StoredResponse,
} from '../../data/idempotency-record.js';
import { customerKey } from '../../data/keys.js';
import { transact } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError, notFound, validationFailed } from '../../errors.js';
import type { ChargeView, RecordChargeInput } from '../../schemas/billing.js';
import type { ServiceContext } from '../../service-context.js';

/** A charge may be dated at most this far ahead (clock skew of the rating engine), and not before 2000. */
const maxFutureMillis = 24 * 60 * 60 * 1000;
const earliestOccurredAt = Date.parse('2000-01-01T00:00:00Z');

export interface KeyedCharge {
  readonly request: IdempotentRequest;
  readonly storedAs: (charge: ChargeView) => StoredResponse;
}

export type ChargeOutcome = { readonly result: ChargeView } | { readonly replay: StoredResponse };

/**
 * Records a charge (§9) in one round trip: one transaction of the customer's check (it
 * exists and bills in this currency; a terminated customer's late usage is still
 * recorded, §3), the charge, and the key's answer when there is one. The invoice
 * aggregation counts it from the stream; its period is decided there.
 */
export async function recordCharge(
  ctx: ServiceContext,
  customerId: string,
  input: RecordChargeInput,
  keyed?: KeyedCharge,
): Promise<ChargeOutcome> {
  const now = ctx.now();
  const occurredAt = occurredAtOf(input.occurredAt, now);
  const charge: Charge = {
    id: ctx.newId(),
    customerId,
    amount: input.amount,
    currency: input.currency,
    kind: input.kind,
    description: input.description,
    occurredAt,
    period: null,
  };
  const view = viewOfCharge(charge);
  try {
    // A conflict cancels the whole transaction, so the same charge is simply sent again.
    await retryOnWriteConflict(() =>
      transact(ctx.db, [
        ...(keyed ? [recordAnswer(keyed.request, keyed.storedAs(view), now)] : []),
        customers.check(
          customerKey(customerId),
          and(exists('pk'), eq('currency', input.currency)),
          (current) => chargeRefusal(customerId, input.currency, current),
        ),
        charges.put(charge, { condition: notExists('pk') }),
      ]),
    );
  } catch (error) {
    if (error instanceof IdempotentReplay) return { replay: error.response };
    throw error;
  }
  return { result: view };
}

export const viewOfCharge = ({ period: _p, countedIn: _c, ...view }: Charge): ChargeView => view;

function occurredAtOf(given: string | undefined, now: Date): string {
  if (given === undefined) return now.toISOString();
  const at = Date.parse(given);
  if (at > now.getTime() + maxFutureMillis || at < earliestOccurredAt) {
    throw validationFailed(
      [{ path: 'occurredAt', message: 'must be from 2000 on and at most 1 day ahead' }],
      'occurredAt is out of range.',
    );
  }
  return new Date(at).toISOString();
}

function chargeRefusal(
  customerId: string,
  currency: string,
  current: CustomerRecord | undefined,
): Error {
  if (!current) return notFound(`Customer ${customerId} does not exist.`);
  return new AppError(
    'currency_mismatch',
    `Customer ${customerId} is billed in ${current.currency}, not ${currency}.`,
  );
}
