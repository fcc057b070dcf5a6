import { concurrentUpdate } from '../errors.js';
import { WriteConflict } from './table.js';

/**
 * The outcomes a fresh attempt can change: a plain write that meets an item inside
 * another request's transaction (TransactionConflictException, which the SDK does not
 * retry), and a transaction lost to a concurrent writer or cancelled by a condition
 * that declares no error (`transact` in lib/data/table.ts raises both as WriteConflict).
 */
export const isWriteConflict = (error: unknown): boolean =>
  error instanceof WriteConflict ||
  (error as { name?: string } | null)?.name === 'TransactionConflictException';

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
