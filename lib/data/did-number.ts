import * as z from 'zod';
import { didBatchSources, didKinds, didProviders } from '../schemas/did-batches.js';
import { moneySchema } from '../schemas/dids.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { didNumberKey, didPlacePrefix, didPlaceSort, entityTypes } from './keys.js';
import { decodeCursor, type Page, pageFrom } from './pagination.js';
import { type Item, queryItems } from './table.js';

/**
 * Where a DID is in its life:
 * - `available`: in its inventory batch, offered (inventory numbers only);
 * - `ordering`: held for a provider order under way (`orderId`), not yet anyone's;
 * - `assigned`: the customer's (`customerId`);
 * - `releasing`: a provider number given up by its customer, being released at the
 *   provider by the DID release consumer, after which the item is deleted.
 */
export const didStatuses = ['available', 'ordering', 'assigned', 'releasing'] as const;

/**
 * One item per DID (`didNumberKey`), inventory and provider numbers alike: the
 * number's batch, place and costs, and its state. Every change of state is one
 * conditional write of this item, so a number is never in two states or with two
 * customers at once.
 */
const didNumberSchema = z.object({
  number: z.string(),
  batchId: z.string(),
  source: z.enum(didBatchSources),
  /** The provider a `provider` number was bought from; null for inventory numbers. */
  provider: z.enum(didProviders).nullable().default(null),
  kind: z.enum(didKinds),
  country: z.string(),
  /** null without an area. */
  area: z.string().nullable(),
  /** What the inventory or the provider charges us for it. */
  activationCost: moneySchema,
  recurringCost: moneySchema,
  status: z.enum(didStatuses),
  customerId: z.string().nullable().default(null),
  assignedAt: z.string().nullable().default(null),
  /** When it last went back to the inventory. */
  releasedAt: z.string().nullable().default(null),
  addedAt: z.string(),
  /** The provider order holding or having bought it. */
  orderId: z.string().nullable().default(null),
  /** The provider's id of the DID, once bought. */
  providerDidId: z.string().nullable().default(null),
});
export type DidNumber = z.infer<typeof didNumberSchema>;

export const didNumbers = defineEntity({
  type: entityTypes.didNumber,
  schema: didNumberSchema,
  keyOf: (did) => didNumberKey(did.number),
  // `placeSort` stays on the item so a release can copy it back into the index key.
  derived: (did) => ({
    placeSort: didPlaceSort(did),
    ...(did.status === 'available'
      ? { availableIn: did.batchId, availablePlace: didPlaceSort(did) }
      : {}),
  }),
});

/** The index attributes an available DID carries and a taken one does not. */
export const availabilityAttributes = { batch: 'availableIn', place: 'availablePlace' } as const;

/** Picks one DID out of a mixed BatchGetItem answer. */
export const didNumberFrom = (
  items: ReadonlyMap<string, Item>,
  number: string,
): DidNumber | undefined => didNumbers.from(items, didNumberKey(number));

const offerPageKey = ['pk', 'sk', availabilityAttributes.batch, availabilityAttributes.place];

/**
 * One page of a batch's available DIDs at a place (kind, country, optionally area),
 * in number order: one Query of the sparse `availableDids` index, reading only the
 * numbers it returns. The index is eventually consistent: a number taken a moment ago
 * may still be listed, and its assignment then answers `did_unavailable`.
 */
export async function queryAvailableDids(
  db: Db,
  batchId: string,
  filter: { readonly kind: string; readonly country: string; readonly area?: string | undefined },
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<DidNumber>> {
  const prefix = didPlacePrefix(filter);
  const startKey = page.cursor
    ? decodeCursor(
        page.cursor,
        offerPageKey,
        { attribute: availabilityAttributes.batch, value: batchId },
        // A cursor of another filter would page outside the place asked for.
        (key) => key[availabilityAttributes.place]?.startsWith(prefix) === true,
      )
    : undefined;
  const { items } = await queryItems(db, {
    index: 'availableDids',
    key: {
      partition: [availabilityAttributes.batch, batchId],
      sort: { attribute: availabilityAttributes.place, beginsWith: prefix },
    },
    limit: page.limit + 1,
    startKey,
  });
  return pageFrom(items, page.limit, offerPageKey, didNumbers.parse);
}

/** Strongly consistent read of one DID, or undefined. */
export const readDidNumber = (db: Db, number: string): Promise<DidNumber | undefined> =>
  didNumbers.get(db, didNumberKey(number));
