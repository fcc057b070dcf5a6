import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/**
 * A plain write that meets an item inside another request's transaction fails with
 * TransactionConflictException, which the SDK does not retry; neither does it retry a
 * transaction cancelled by a conflict or a failed condition. These are the outcomes a
 * fresh attempt can change.
 */
export function isWriteConflict(error: unknown): boolean {
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
