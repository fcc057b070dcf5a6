import * as z from 'zod';
import { didBatchSources, didKinds } from '../schemas/did-batches.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import {
  assignedDidsIndexKeys,
  customerDidKey,
  customerDidSortPrefix,
  customerPartitionPrefix,
  entityTypes,
} from './keys.js';
import { type Page, queryPartitionPage } from './pagination.js';

/**
 * A DID as its customer holds it (`customerDidKey`): written in the assignment's
 * transaction beside the number's own item, with the prices it was assigned at, so
 * the customer's numbers list, and are found on termination, by one strongly
 * consistent Query of its partition.
 */
const customerDidSchema = z.object({
  customerId: z.string(),
  number: z.string(),
  batchId: z.string(),
  source: z.enum(didBatchSources),
  kind: z.enum(didKinds),
  country: z.string(),
  area: z.string().nullable(),
  activationPrice: z.string(),
  recurringPrice: z.string(),
  currency: z.string(),
  assignedAt: z.string(),
});
export type CustomerDid = z.infer<typeof customerDidSchema>;

export const customerDids = defineEntity({
  type: entityTypes.customerDid,
  schema: customerDidSchema,
  keyOf: (did) => customerDidKey(did.customerId, did.number),
  derived: (did) => assignedDidsIndexKeys(did.customerId, did.number),
});

/** One page of a customer's DIDs in number order: one strongly consistent Query. */
export const queryCustomerDids = (
  db: Db,
  customerId: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<CustomerDid>> =>
  queryPartitionPage(
    db,
    { partition: `${customerPartitionPrefix}${customerId}`, sortPrefix: customerDidSortPrefix },
    page,
    customerDids.parse,
  );
