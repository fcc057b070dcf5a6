import { createHash } from 'node:crypto';
import * as z from 'zod';
import { idempotencyKeyReused, requestInProgress } from '../errors.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { and, eq, lt, notExists, or } from './expressions.js';
import { entityTypes, idempotencyKey } from './keys.js';
import { writeItem } from './table.js';

/** Keys live for 24 hours (§1); DynamoDB's TTL deletes them some time after. */
export const idempotencyRetentionSeconds = 24 * 60 * 60;

export interface StoredResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const recordSchema = z.object({
  digest: z.string(),
  status: z.enum(['in_progress', 'completed']),
  requestDigest: z.string(),
  expiresAt: z.number(),
  leaseExpiresAt: z.number(),
  response: z
    .object({
      statusCode: z.number(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
    })
    .optional(),
});

/** The claim of one Idempotency-Key, under the digest of its scope. */
const idempotencyRecords = defineEntity({
  type: entityTypes.idempotencyRecord,
  schema: recordSchema,
  keyOf: (record) => idempotencyKey(record.digest),
});

export interface IdempotentRequest {
  /** Who calls (role and ids), which route, and the caller's key: the record's identity. */
  readonly scope: string;
  /** Digest of the request body: the same key with another body is a different request. */
  readonly requestDigest: string;
}

export type BeginOutcome =
  | { readonly kind: 'started'; readonly claim: IdempotencyClaim }
  | { readonly kind: 'replay'; readonly response: StoredResponse };

/** A key this request holds: the record and the lease it was claimed with. */
export interface IdempotencyClaim {
  readonly recordKey: ReturnType<typeof idempotencyKey>;
  readonly leaseExpiresAt: number;
}

/** Only the request whose lease the record still carries may complete or release it. */
const stillHeldBy = (claim: IdempotencyClaim) =>
  and(eq('status', 'in_progress'), eq('leaseExpiresAt', claim.leaseExpiresAt));

export const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Claims the key with one conditional put. The record is free when it does not
 * exist, has expired (DynamoDB may keep expired items for days), or is an
 * in-progress claim whose lease ran out (its Lambda died mid-request).
 */
export async function beginIdempotentRequest(
  db: Db,
  request: IdempotentRequest,
  now: Date,
  leaseMillis: number,
): Promise<BeginOutcome> {
  const digest = digestOf(request.scope);
  const nowMillis = now.getTime();
  const nowSeconds = Math.floor(nowMillis / 1000);
  const leaseExpiresAt = nowMillis + leaseMillis;
  const outcome = await writeItem(
    db,
    idempotencyRecords.put(
      {
        digest,
        status: 'in_progress',
        requestDigest: request.requestDigest,
        leaseExpiresAt,
        expiresAt: nowSeconds + idempotencyRetentionSeconds,
      },
      {
        condition: or(
          notExists('pk'),
          lt('expiresAt', nowSeconds),
          and(eq('status', 'in_progress'), lt('leaseExpiresAt', nowMillis)),
        ),
      },
    ),
  );
  if (outcome.written) {
    return { kind: 'started', claim: { recordKey: idempotencyKey(digest), leaseExpiresAt } };
  }
  const existing = idempotencyRecords.parse({ digest, ...outcome.current });
  if (existing.requestDigest !== request.requestDigest) throw idempotencyKeyReused();
  if (existing.status === 'completed' && existing.response) {
    return { kind: 'replay', response: existing.response };
  }
  throw requestInProgress();
}

/**
 * Stores the first answer with the key. False when the lease ran out and another
 * request took the key over meanwhile: its answer, not this one, is the key's.
 */
export async function completeIdempotentRequest(
  db: Db,
  claim: IdempotencyClaim,
  response: StoredResponse,
): Promise<boolean> {
  const outcome = await writeItem(
    db,
    idempotencyRecords.update(
      claim.recordKey,
      { set: { status: 'completed', response } },
      { condition: stillHeldBy(claim) },
    ),
  );
  return outcome.written;
}

/** A request that failed leaves no trace: the same key may be used again. */
export async function releaseIdempotentRequest(db: Db, claim: IdempotencyClaim): Promise<void> {
  // A failed condition means someone else took over an expired lease: not ours to delete.
  await writeItem(
    db,
    idempotencyRecords.delete(claim.recordKey, { condition: stillHeldBy(claim) }),
  );
}
