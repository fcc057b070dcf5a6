import * as z from 'zod';
import { chargeFields } from '../schemas/billing.js';
import { defineEntity } from './entity.js';
import { chargeKey, entityTypes } from './keys.js';

/**
 * A charge (§9) as recorded, beside its customer (`chargeKey`). Charges are written
 * once and changed only by the marker that counts them; invoices are aggregated from
 * their stream records until then. DID assignments write their activation charges in
 * the assignment's own transaction, so a number is never assigned without its charge.
 */
export const chargeSchema = z.object({
  ...chargeFields,
  /**
   * The period the charge is for when its writer decides it (the close's recurring
   * DID charges); null for every other, whose period is its `occurredAt`'s in the
   * customer's timezone when it is counted.
   */
  period: z.string().nullable().default(null),
  /** The invoice period it was counted in: set in the aggregation's own transaction, so it is counted once. */
  countedIn: z.string().optional(),
});
export type Charge = z.infer<typeof chargeSchema>;
export type ChargeKind = Charge['kind'];

export const charges = defineEntity({
  type: entityTypes.charge,
  schema: chargeSchema,
  keyOf: (charge) => chargeKey(charge.customerId, charge.id),
});
