import { type DidBatchRecord, didBatches } from '../../../../../lib/data/did-batch.js';
import type { Item } from '../../../../fixtures/mocked-table.js';

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
export const didBatchKey = (id: string) => ({ pk: `DID_BATCH#${id}`, sk: 'DID_BATCH' });
export const didNumberKey = (number: string) => ({ pk: `DID#${number}`, sk: 'DID' });

/** A stored inventory batch, paid in `currency` (EUR unless told), or free with `free`. */
export function didBatch(
  id: string,
  shape: { readonly currency?: string; readonly free?: boolean } & Partial<DidBatchRecord> = {},
): DidBatchRecord {
  const { currency = 'EUR', free = false, ...fields } = shape;
  return {
    id,
    name: `Batch ${id}`,
    source: 'inventory',
    provider: null,
    pricing: free
      ? { free: true }
      : {
          free: false,
          currency,
          activationFee: '1.00',
          recurringFee: '0.50',
          markupPercent: '10',
          roundingDecimals: 2,
        },
    createdAt: '2026-11-01T00:00:00.000Z',
    version: 1,
    ...fields,
  };
}

/** The batch's item as stored. */
export const didBatchItem = (record: DidBatchRecord): Item => didBatches.toItem(record) as Item;
