import { createHash } from 'node:crypto';
import * as z from 'zod';
import { idempotencyKeyReused, requestInProgress } from '../errors.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { and, eq, lt, notExists, or } from './expressions.js';
import { entityTypes, idempotencyKey } from './keys.js';
import { type WriteRequest, writeItem } from './table.js';

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
 * A record is free when it does not exist, has expired (DynamoDB may keep expired
 * items for days), or is an in-progress claim whose lease ran out (its Lambda died
 * mid-request).
 */
const isFree = (now: Date) =>
  or(
    notExists('pk'),
    lt('expiresAt', Math.floor(now.getTime() / 1000)),
    and(eq('status', 'in_progress'), lt('leaseExpiresAt', now.getTime())),
  );

/** The key's record was taken by a request that answered: its answer is the key's. */
export class IdempotentReplay extends Error {
  constructor(readonly response: StoredResponse) {
    super('The request was answered before under this Idempotency-Key');
    this.name = 'IdempotentReplay';
  }
}

/**
 * What a record that is not free means for a request carrying its key: the first
 * answer (IdempotentReplay), 422 for another body, 409 while the first is at work.
 */
function takenRecordError(
  existing: IdempotencyRecordItem | undefined,
  request: IdempotentRequest,
): Error {
  // Absent: the record was deleted between the write and this read; the client may retry.
  if (!existing) return requestInProgress();
  if (existing.requestDigest !== request.requestDigest) return idempotencyKeyReused();
  if (existing.status === 'completed' && existing.response) {
    return new IdempotentReplay(existing.response);
  }
  return requestInProgress();
}

type IdempotencyRecordItem = ReturnType<typeof idempotencyRecords.parse>;

const recordOf = (request: IdempotentRequest, now: Date) => {
  const digest = digestOf(request.scope);
  return {
    digest,
    requestDigest: request.requestDigest,
    expiresAt: Math.floor(now.getTime() / 1000) + idempotencyRetentionSeconds,
  };
};

/** The key of the record an Idempotency-Key's request is remembered under. */
export const idempotencyRecordKey = (request: IdempotentRequest) =>
  idempotencyKey(digestOf(request.scope));

/**
 * What the record read for a request means before any write: undefined when the
 * request may go ahead, else the error `takenRecordError` names (a replay included).
 */
export function idempotencyRecordRefusal(
  current: Record<string, unknown> | undefined,
  request: IdempotentRequest,
  now: Date,
): Error | undefined {
  if (!current) return undefined;
  const record = idempotencyRecords.parse({ digest: digestOf(request.scope), ...current });
  const free =
    record.expiresAt < Math.floor(now.getTime() / 1000) ||
    (record.status === 'in_progress' && record.leaseExpiresAt < now.getTime());
  return free ? undefined : takenRecordError(record, request);
}

/**
 * The answer of a request whose work is one transaction, recorded in that very
 * transaction: the key costs no round trip of its own. A taken record cancels the
 * transaction with `takenRecordError`: list it first, so that error wins.
 */
export function recordAnswer(
  request: IdempotentRequest,
  response: StoredResponse,
  now: Date,
): WriteRequest {
  const record = recordOf(request, now);
  return idempotencyRecords.put(
    { ...record, status: 'completed', leaseExpiresAt: now.getTime(), response },
    {
      condition: isFree(now),
      onConditionFailed: (current) => takenRecordError(current, request),
    },
  );
}

/** The claim of a key as a write of a larger transaction (see `beginIdempotentRequest`). */
export function claimRequest(
  request: IdempotentRequest,
  now: Date,
  leaseMillis: number,
): { readonly write: WriteRequest; readonly claim: IdempotencyClaim } {
  const record = recordOf(request, now);
  const leaseExpiresAt = now.getTime() + leaseMillis;
  return {
    write: idempotencyRecords.put(
      { ...record, status: 'in_progress', leaseExpiresAt },
      {
        condition: isFree(now),
        onConditionFailed: (current) => takenRecordError(current, request),
      },
    ),
    claim: { recordKey: idempotencyKey(record.digest), leaseExpiresAt },
  };
}

/** Claims the key with one conditional put: started, or the first answer to replay. */
export async function beginIdempotentRequest(
  db: Db,
  request: IdempotentRequest,
  now: Date,
  leaseMillis: number,
): Promise<BeginOutcome> {
  const { write, claim } = claimRequest(request, now, leaseMillis);
  try {
    await writeItem(db, write);
  } catch (error) {
    if (error instanceof IdempotentReplay) return { kind: 'replay', response: error.response };
    throw error;
  }
  return { kind: 'started', claim };
}

/** Stores the first answer with the key, as a write of a larger transaction (see below). */
export const completeClaim = (claim: IdempotencyClaim, response: StoredResponse): WriteRequest =>
  idempotencyRecords.update(
    claim.recordKey,
    { set: { status: 'completed', response } },
    { condition: stillHeldBy(claim) },
  );

/** Frees the key a failed request held, as a write of a larger transaction (see below). */
export const releaseClaim = (claim: IdempotencyClaim): WriteRequest =>
  idempotencyRecords.delete(claim.recordKey, { condition: stillHeldBy(claim) });

/**
 * Stores the first answer with the key. False when the lease ran out and another
 * request took the key over meanwhile: its answer, not this one, is the key's.
 */
export async function completeIdempotentRequest(
  db: Db,
  claim: IdempotencyClaim,
  response: StoredResponse,
): Promise<boolean> {
  const outcome = await writeItem(db, completeClaim(claim, response));
  return outcome.written;
}

/** A request that failed leaves no trace: the same key may be used again. */
export async function releaseIdempotentRequest(db: Db, claim: IdempotencyClaim): Promise<void> {
  // A failed condition means someone else took over an expired lease: not ours to delete.
  await writeItem(db, releaseClaim(claim));
}
