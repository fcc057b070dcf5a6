import * as z from 'zod';
import { defineEntity } from './entity.js';
import { chargeKey, entityTypes } from './keys.js';

export const chargeKinds = ['usage', 'did_activation', 'did_recurring', 'manual'] as const;

/**
 * A charge (§9) as recorded, beside its customer (`chargeKey`). Charges are written
 * once and never changed; invoices are aggregated from their INSERT records on the
 * table's stream. DID assignments write their activation charges in the assignment's
 * own transaction, so a number is never assigned without its charge.
 */
export const chargeSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  amount: z.string(),
  currency: z.string(),
  kind: z.enum(chargeKinds),
  description: z.string(),
  occurredAt: z.string(),
});
export type Charge = z.infer<typeof chargeSchema>;

export const charges = defineEntity({
  type: entityTypes.charge,
  schema: chargeSchema,
  keyOf: (charge) => chargeKey(charge.customerId, charge.id),
});
