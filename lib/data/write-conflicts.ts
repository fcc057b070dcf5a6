import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { concurrentUpdate } from '../errors.js';
import { WriteConflict } from './table.js';

/**
 * A plain write that meets an item inside another request's transaction fails with
 * TransactionConflictException, which the SDK does not retry; neither does it retry a
 * transaction cancelled by a conflict or a failed condition (`WriteConflict` from
 * lib/data/table.ts). These are the outcomes a fresh attempt can change.
 */
export function isWriteConflict(error: unknown): boolean {
  if (error instanceof WriteConflict) return true;
  if ((error as { name?: string } | null)?.name === 'TransactionConflictException') return true;
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
    return codes.every((code) =>
      ['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code),
    );
  }
  return false;
}

/** Jittered exponential pause before attempt `attempt + 1`: 10, 20, 40… ms, at most 250. */
export const backOff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 10 * 2 ** attempt)));

/**
 * Runs a read-then-conditional-write until its write meets no conflict: a conflict
 * means someone wrote in between, so the whole thing runs again on fresh reads.
 * After `maxAttempts` conflicts the caller gets 409 concurrent_update.
 */
export async function retryOnWriteConflict<T>(run: () => Promise<T>, maxAttempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (!isWriteConflict(error)) throw error;
      if (attempt >= maxAttempts) throw concurrentUpdate();
      await backOff(attempt);
    }
  }
}
