import * as z from 'zod';
import { didKinds, didProviders } from '../schemas/did-batches.js';
import { moneySchema } from '../schemas/dids.js';
import { defineEntity } from './entity.js';
import { didOrderKey, entityTypes } from './keys.js';

/**
 * - `ordering`: written before the provider is called; the numbers are held for it.
 * - `completed`: the numbers were assigned, in the same transaction that set this.
 * - `compensating`: the order failed or the assignment lost a race: whatever the
 *   provider sold under it is to be released (by the DID release consumer).
 * - `compensated`: released; nothing is left to do.
 * An intent still `ordering` when it expires belonged to a request that crashed: its
 * expiry (the table's TTL deleting it) is the stream record that compensates it.
 */
export const didOrderStatuses = ['ordering', 'completed', 'compensating', 'compensated'] as const;
export type DidOrderStatus = (typeof didOrderStatuses)[number];

const orderedNumberSchema = z.object({
  number: z.string(),
  kind: z.enum(didKinds),
  country: z.string(),
  area: z.string().nullable(),
  activationCost: moneySchema,
  recurringCost: moneySchema,
  /** The adapter's reference of the offer (what it orders). */
  offerRef: z.string(),
});

/** A provider order as a recorded intent (`didOrderKey`). */
const didOrderSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  batchId: z.string(),
  provider: z.enum(didProviders),
  status: z.enum(didOrderStatuses),
  numbers: z.array(orderedNumberSchema).min(1),
  createdAt: z.string(),
  /** Epoch seconds: the table's TTL attribute. */
  expiresAt: z.number().int(),
});
export type DidOrder = z.infer<typeof didOrderSchema>;
export type OrderedNumber = z.infer<typeof orderedNumberSchema>;

export const didOrders = defineEntity({
  type: entityTypes.didOrder,
  schema: didOrderSchema,
  keyOf: (order) => didOrderKey(order.id),
});
