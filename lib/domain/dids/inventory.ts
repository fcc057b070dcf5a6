import { boundedAll } from '../../concurrency.js';
import { readDidBatch } from '../../data/did-batch.js';
import { didNumbers } from '../../data/did-number.js';
import { notExists } from '../../data/expressions.js';
import { transactReportingFailures } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError, notFound } from '../../errors.js';
import type { ImportResult, InventoryEntry } from '../../schemas/did-batches.js';
import type { ServiceContext } from '../../service-context.js';

/**
 * Numbers per transaction (one item each, DynamoDB takes 100) and transactions in
 * flight: 1,000 numbers are 10 transactions; 10 numbers are one. Every available
 * number lands in its batch's one partition of the `availableDids` index, so few
 * transactions run at once, and a throttled one is sent again after a pause.
 */
const numbersPerTransaction = 100;
const transactionsInFlight = 4;
const attemptsPerTransaction = 10;

/**
 * Adds numbers to an inventory batch as available (§8): one read of the batch, then
 * transactions of up to 100 numbers, 4 in flight. Each number is the put of its item,
 * on condition that the number is in no inventory and with no customer yet (its
 * available state puts it in the batch's offers). A transaction that meets known numbers is cancelled naming
 * them (usually every one, at least one): they are rejected as `duplicate` and the
 * others are sent again. Each transaction is atomic, the import is not: one that fails
 * after its retries leaves the transactions before it written, and a retry of the call
 * answers those numbers `duplicate`. Batches cannot be deleted, so no write is
 * conditioned on the batch.
 */
export async function importNumbers(
  ctx: ServiceContext,
  batchId: string,
  entries: readonly InventoryEntry[],
): Promise<ImportResult> {
  const batch = await readDidBatch(ctx.db, batchId);
  if (!batch) throw notFound(`DID batch ${batchId} does not exist.`);
  if (batch.source !== 'inventory') {
    throw new AppError(
      'batch_not_inventory',
      `DID batch ${batchId} takes its numbers from the provider ${batch.provider}; only inventory batches take imported numbers.`,
    );
  }
  const addedAt = ctx.now().toISOString();
  const chunks = Array.from({ length: Math.ceil(entries.length / numbersPerTransaction) }, (_, i) =>
    entries.slice(i * numbersPerTransaction, (i + 1) * numbersPerTransaction),
  );
  const duplicates = new Set(
    (
      await boundedAll(chunks, transactionsInFlight, (chunk) =>
        addNumbers(ctx, batchId, chunk, addedAt),
      )
    ).flat(),
  );
  return {
    added: entries.map(({ number }) => number).filter((number) => !duplicates.has(number)),
    rejected: entries
      .filter(({ number }) => duplicates.has(number))
      .map(({ number }) => ({ number, reason: 'duplicate' as const })),
  };
}

/**
 * Writes the numbers not yet registered, all in one transaction; answers the ones that
 * were. A transaction that meets a concurrent import of the same numbers conflicts,
 * and is sent again: it then finds them registered.
 */
async function addNumbers(
  ctx: ServiceContext,
  batchId: string,
  entries: readonly InventoryEntry[],
  addedAt: string,
): Promise<string[]> {
  const duplicates: string[] = [];
  let pending = [...entries];
  while (pending.length > 0) {
    const writes = pending.map((entry) => ({
      number: entry.number,
      put: didNumbers.put(
        {
          number: entry.number,
          batchId,
          source: 'inventory',
          provider: null,
          kind: entry.kind,
          country: entry.country,
          area: entry.area ?? null,
          activationCost: entry.activationCost,
          recurringCost: entry.recurringCost,
          status: 'available',
          customerId: null,
          assignedAt: null,
          releasedAt: null,
          addedAt,
          orderId: null,
          providerDidId: null,
        },
        { condition: notExists('pk') },
      ),
    }));
    const failed = await retryOnWriteConflict(
      () =>
        transactReportingFailures(
          ctx.db,
          writes.map((write) => write.put),
        ),
      attemptsPerTransaction,
    );
    if (failed.length === 0) break;
    const taken = new Set(
      writes.filter((write) => failed.includes(write.put)).map((write) => write.number),
    );
    // Every put carries a condition; without one among the failures this would loop.
    if (taken.size === 0) throw new Error('An import transaction failed on no number');
    duplicates.push(...taken);
    pending = pending.filter((entry) => !taken.has(entry.number));
  }
  return duplicates;
}
