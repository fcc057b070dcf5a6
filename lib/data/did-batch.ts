import type { Db } from './client.js';
import { didBatchKey } from './keys.js';
import { getItem, type Item, itemId } from './table.js';

/*
 * DID pricing batches arrive with [dids]; until then their items are only looked up,
 * for the panel to check that the batch it would point to exists.
 */

/** Whether a mixed BatchGetItem answer holds the batch. */
export const didBatchIn = (items: ReadonlyMap<string, Item>, id: string): boolean =>
  items.has(itemId(didBatchKey(id)));

/** Strongly consistent check that the batch exists. */
export const didBatchExists = async (db: Db, id: string): Promise<boolean> =>
  (await getItem(db, didBatchKey(id))) !== undefined;
