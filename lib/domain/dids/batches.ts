import {
  type DidBatchRecord,
  didBatches,
  didBatchNames,
  etagOfBatch,
  queryDidBatchesByName,
  readDidBatch,
  toDidBatch,
} from '../../data/did-batch.js';
import { notExists } from '../../data/expressions.js';
import type { Page } from '../../data/pagination.js';
import { transact } from '../../data/table.js';
import type { ETag } from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError, notFound } from '../../errors.js';
import type { CreateDidBatchInput, DidBatch } from '../../schemas/did-batches.js';
import type { ServiceContext } from '../../service-context.js';

export interface VersionedBatch {
  readonly batch: DidBatch;
  readonly etag: ETag;
}

const versioned = (record: DidBatchRecord): VersionedBatch => ({
  batch: toDidBatch(record),
  etag: etagOfBatch(record),
});

const nameTaken = (name: string, existing: string) =>
  new AppError(
    'name_taken',
    `A DID batch named "${existing}" exists already; names compare case-insensitively, so "${name}" is taken.`,
  );

/**
 * A new batch (§8) in one transaction: the name's registry item, on condition that
 * no batch has the name in any spelling (409 name_taken, listed first so it wins),
 * and the batch itself, on condition that its new id names nothing yet; an id that
 * does (never with ULIDs, and cheap to rule out) is drawn again.
 */
export async function createDidBatch(
  ctx: ServiceContext,
  input: CreateDidBatchInput,
): Promise<VersionedBatch> {
  const createdAt = ctx.now().toISOString();
  return retryOnWriteConflict(async () => {
    const record: DidBatchRecord = {
      id: ctx.newId(),
      name: input.name,
      source: input.source,
      provider: input.provider ?? null,
      pricing: input.pricing,
      createdAt,
      version: 1,
    };
    await transact(ctx.db, [
      didBatchNames.put(toDidBatch(record), {
        condition: notExists('pk'),
        onConditionFailed: (existing) => nameTaken(input.name, existing?.name ?? input.name),
      }),
      didBatches.put(record, { condition: notExists('pk') }),
    ]);
    return versioned(record);
  });
}

export async function getDidBatch(ctx: ServiceContext, id: string): Promise<VersionedBatch> {
  const record = await readDidBatch(ctx.db, id);
  if (!record) throw notFound(`DID batch ${id} does not exist.`);
  return versioned(record);
}

/** Every batch, by name; one Query per page. */
export const listDidBatches = (
  ctx: ServiceContext,
  query: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<DidBatch>> => queryDidBatchesByName(ctx.db, query);
