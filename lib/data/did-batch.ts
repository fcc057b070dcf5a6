import * as z from 'zod';
import { type DidBatch, didBatchSchema } from '../schemas/did-batches.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { didBatchKey, didBatchNameKey, didBatchNamesPartition, entityTypes } from './keys.js';
import { decodeCursor, type Page, pageFrom } from './pagination.js';
import { type Item, queryItems } from './table.js';
import { type ETag, etagOf } from './versioning.js';

/**
 * A DID pricing batch (§8) as stored: the API fields and its version (the ETag).
 * Batches are neither changed nor deleted once created, so the version stays 1 and
 * nothing that reads a batch needs to condition its write on it.
 */
export const didBatchRecordSchema = didBatchSchema.extend({ version: z.number().int().min(1) });
export type DidBatchRecord = z.infer<typeof didBatchRecordSchema>;

/** What a customer's offers and assignments need of its batch: copied onto the customer (lib/data/customer.ts). */
export const didBatchTermsSchema = didBatchSchema.pick({
  id: true,
  source: true,
  provider: true,
  pricing: true,
});
export type DidBatchTerms = z.infer<typeof didBatchTermsSchema>;

export const termsOf = (batch: DidBatchRecord): DidBatchTerms => ({
  id: batch.id,
  source: batch.source,
  provider: batch.provider,
  pricing: batch.pricing,
});

export const etagOfBatch = (record: DidBatchRecord): ETag => etagOf(record.version);

export function toDidBatch(record: DidBatchRecord): DidBatch {
  const { version: _version, ...batch } = record;
  return batch;
}

export const didBatches = defineEntity({
  type: entityTypes.didBatch,
  schema: didBatchRecordSchema,
  keyOf: (record) => didBatchKey(record.id),
});

/**
 * The registry item of a batch's name (`didBatchNameKey`): put on condition that it
 * does not exist, in the batch's own creating transaction, it keeps names unique; it
 * holds the batch as the list shows it, so listing reads nothing else.
 */
export const didBatchNames = defineEntity({
  type: entityTypes.didBatchName,
  schema: didBatchSchema,
  keyOf: (batch) => didBatchNameKey(batch.name),
});

/** Strongly consistent read of one batch, or undefined. */
export const readDidBatch = (db: Db, id: string): Promise<DidBatchRecord | undefined> =>
  didBatches.get(db, didBatchKey(id));

/** Picks the batch out of a mixed BatchGetItem answer. */
export const didBatchFrom = (
  items: ReadonlyMap<string, Item>,
  id: string,
): DidBatchRecord | undefined => didBatches.from(items, didBatchKey(id));

const namePageKey = ['pk', 'sk'];

/**
 * One page of the batches by name (case-insensitive order), from their name
 * registry: one strongly consistent Query. A cursor outside that partition is 400.
 */
export async function queryDidBatchesByName(
  db: Db,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<DidBatch>> {
  const startKey = page.cursor
    ? decodeCursor(page.cursor, namePageKey, { attribute: 'pk', value: didBatchNamesPartition })
    : undefined;
  const { items } = await queryItems(db, {
    key: { partition: ['pk', didBatchNamesPartition] },
    limit: page.limit + 1,
    startKey,
  });
  return pageFrom(items, page.limit, namePageKey, didBatchNames.parse);
}
