import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { idempotencyKeyReused, requestInProgress } from '../errors.js';
import type { Db } from './client.js';
import { conditionFailure } from './conditions.js';
import { entityTypes, idempotencyKey } from './keys.js';

/** Keys live for 24 hours (SPEC §1); DynamoDB's TTL deletes them some time after. */
export const idempotencyRetentionSeconds = 24 * 60 * 60;

export interface StoredResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const recordSchema = z.object({
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

export interface IdempotentRequest {
  /** Who calls (role and ids), which route, and the caller's key: the record's identity. */
  readonly scope: string;
  /** Digest of the request body: the same key with another body is a different request. */
  readonly requestDigest: string;
}

export type BeginOutcome =
  | { readonly kind: 'started'; readonly recordKey: ReturnType<typeof idempotencyKey> }
  | { readonly kind: 'replay'; readonly response: StoredResponse };

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
  const recordKey = idempotencyKey(digestOf(request.scope));
  const nowMillis = now.getTime();
  try {
    await db.client.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          ...recordKey,
          entityType: entityTypes.idempotencyRecord,
          status: 'in_progress',
          requestDigest: request.requestDigest,
          leaseExpiresAt: nowMillis + leaseMillis,
          expiresAt: Math.floor(nowMillis / 1000) + idempotencyRetentionSeconds,
        },
        ConditionExpression:
          'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR (#status = :inProgress AND leaseExpiresAt < :nowMillis)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':nowSeconds': Math.floor(nowMillis / 1000),
          ':nowMillis': nowMillis,
          ':inProgress': 'in_progress',
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'started', recordKey };
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure?.item) throw error;
    const existing = recordSchema.parse(failure.item);
    if (existing.requestDigest !== request.requestDigest) throw idempotencyKeyReused();
    if (existing.status === 'completed' && existing.response) {
      return { kind: 'replay', response: existing.response };
    }
    throw requestInProgress();
  }
}

export async function completeIdempotentRequest(
  db: Db,
  recordKey: ReturnType<typeof idempotencyKey>,
  response: StoredResponse,
): Promise<void> {
  await db.client.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: recordKey,
      UpdateExpression: 'SET #status = :completed, #response = :response',
      ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
      ExpressionAttributeValues: { ':completed': 'completed', ':response': response },
    }),
  );
}

/** A request that failed leaves no trace: the same key may be used again. */
export async function releaseIdempotentRequest(
  db: Db,
  recordKey: ReturnType<typeof idempotencyKey>,
): Promise<void> {
  await db.client
    .send(
      new DeleteCommand({
        TableName: db.tableName,
        Key: recordKey,
        ConditionExpression: '#status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'in_progress' },
      }),
    )
    .catch((error: unknown) => {
      // Someone else took over an expired lease; their record is not ours to delete.
      if (!conditionFailure(error)) throw error;
    });
}
