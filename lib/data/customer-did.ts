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
import { decodeCursor, type Page, pageFrom } from './pagination.js';
import { queryItems } from './table.js';

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

const pageKey = ['pk', 'sk'];

/** One page of a customer's DIDs in number order: one strongly consistent Query. */
export async function queryCustomerDids(
  db: Db,
  customerId: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<CustomerDid>> {
  const partition = `${customerPartitionPrefix}${customerId}`;
  const startKey = page.cursor
    ? decodeCursor(
        page.cursor,
        pageKey,
        { attribute: 'pk', value: partition },
        (key) => key.sk?.startsWith(customerDidSortPrefix) === true,
      )
    : undefined;
  const { items } = await queryItems(db, {
    key: {
      partition: ['pk', partition],
      sort: { attribute: 'sk', beginsWith: customerDidSortPrefix },
    },
    limit: page.limit + 1,
    startKey,
  });
  return pageFrom(items, page.limit, pageKey, customerDids.parse);
}
