import { charges } from '../../data/charge.js';
import { customerDids } from '../../data/customer-did.js';
import { and, eq, notExists } from '../../data/expressions.js';
import { billingPeriods } from '../../data/invoice.js';
import { assignedDidsPartition, billingShardCount, periodCloseKey } from '../../data/keys.js';
import { type PeriodClose, periodCloseStartCursor, periodCloses } from '../../data/period-close.js';
import {
  queryItems,
  transactReportingFailures,
  WriteConflict,
  type WriteRequest,
  writeItem,
} from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { AppError, notFound } from '../../errors.js';
import type { PeriodCloseView } from '../../schemas/billing.js';
import type { ServiceContext } from '../../service-context.js';
import { isZeroDecimal } from '../dids/money.js';
import { nextPeriod } from './periods.js';

/** Assigned DIDs charged per transaction: the job's own update is the 100th write. */
export const periodClosePageSize = 99;

/**
 * The instant a period has ended in every timezone: its next month's first day has
 * begun at UTC−12, 12:00 UTC on that day.
 */
export function periodEndedEverywhereAt(period: string): Date {
  const [year, month] = nextPeriod(period).split('-').map(Number) as [number, number];
  // setUTCFullYear takes any year as it is (Date.UTC reads 0–99 as 1900–1999, and an
  // ISO string has no five-digit year without a sign: 9999-12 ends in 10000).
  const end = new Date(Date.UTC(2000, 0, 1, 12));
  end.setUTCFullYear(year, month - 1, 1);
  return end;
}

/**
 * Starts the close of a period (§9), once: a second call answers the job as it stands
 * and adds nothing. A period that has not ended in every timezone is 409.
 */
export async function startPeriodClose(
  ctx: ServiceContext,
  period: string,
): Promise<{ readonly job: PeriodClose; readonly started: boolean }> {
  const now = ctx.now();
  if (now < periodEndedEverywhereAt(period)) {
    throw new AppError(
      'period_not_ended',
      `Period ${period} has not ended in every timezone until ${periodEndedEverywhereAt(period).toISOString()}.`,
    );
  }
  const job: PeriodClose = {
    period,
    status: 'running',
    shard: 0,
    cursor: periodCloseStartCursor,
    recurringCharges: 0,
    startedAt: now.toISOString(),
    closedAt: null,
  };
  return retryOnWriteConflict(async () => {
    const outcome = await writeItem(ctx.db, periodCloses.put(job, { condition: notExists('pk') }));
    if (outcome.written) return { job, started: true };
    // Refused without the item it was refused for: it changed meanwhile; read again.
    if (!outcome.current) throw new WriteConflict();
    return { job: periodCloses.parse(outcome.current), started: false };
  });
}

export async function readPeriodClose(
  ctx: ServiceContext,
  period: string,
): Promise<PeriodCloseView> {
  const job = await periodCloses.get(ctx.db, periodCloseKey(period));
  if (!job) throw notFound(`Period ${period} has no close.`);
  return viewOfPeriodClose(job);
}

export const viewOfPeriodClose = (job: PeriodClose): PeriodCloseView => ({
  period: job.period,
  status: job.status,
  shardsDone: Math.min(job.shard, billingShardCount),
  shardCount: billingShardCount,
  recurringCharges: job.recurringCharges,
  startedAt: job.startedAt,
  closedAt: job.closedAt,
});

/**
 * One chunk of a running close, run from the job's stream record: one page of one
 * shard of the `assignedDids` index, each DID with a recurring price charged on the
 * period (a charge id fixed by period, customer and number, put only if absent) in
 * one transaction with the job's advance, conditioned on the job being where this
 * record found it. A record delivered twice, or a stale one, changes nothing.
 */
export async function continuePeriodClose(ctx: ServiceContext, image: PeriodClose): Promise<void> {
  const job = await periodCloses.get(ctx.db, periodCloseKey(image.period));
  if (job?.status !== 'running' || job.shard !== image.shard || job.cursor !== image.cursor) return;
  if (job.shard >= billingShardCount) return closePeriod(ctx, job);

  const page = await queryItems(ctx.db, {
    index: 'assignedDids',
    key: { partition: ['assignedDidsPk', assignedDidsPartition(job.shard)] },
    limit: periodClosePageSize,
    startKey: job.cursor === periodCloseStartCursor ? undefined : JSON.parse(job.cursor),
  });
  const occurredAt = ctx.now().toISOString();
  let puts: WriteRequest[] = page.items
    .map(customerDids.parse)
    .filter((did) => !isZeroDecimal(did.recurringPrice))
    .map((did) =>
      charges.put(
        {
          id: `did-recurring-${job.period}-${did.number.slice(1)}`,
          customerId: did.customerId,
          amount: did.recurringPrice,
          currency: did.currency,
          kind: 'did_recurring',
          description: `DID ${did.number}, ${job.period}`,
          occurredAt,
          period: job.period,
        },
        { condition: notExists('pk') },
      ),
    );
  const next = page.lastKey
    ? { shard: job.shard, cursor: JSON.stringify(page.lastKey) }
    : { shard: job.shard + 1, cursor: periodCloseStartCursor };
  for (;;) {
    const advance = periodCloses.update(
      periodCloseKey(job.period),
      { set: next, add: { recurringCharges: puts.length } },
      { condition: and(eq('shard', job.shard), eq('cursor', job.cursor)) },
    );
    const failed = new Set(await transactReportingFailures(ctx.db, [advance, ...puts]));
    if (failed.size === 0 || failed.has(advance)) return;
    // A charge already there (only a close of this very page run before could have put it): dropped.
    puts = puts.filter((put) => !failed.has(put));
  }
}

/** The last step: every shard of the period's state closed, with the job, in one transaction. */
async function closePeriod(ctx: ServiceContext, job: PeriodClose): Promise<void> {
  const closedAt = ctx.now().toISOString();
  // A failure can only be the job's condition: another delivery closed it already.
  await transactReportingFailures(ctx.db, [
    periodCloses.update(
      periodCloseKey(job.period),
      { set: { status: 'closed', closedAt } },
      { condition: and(eq('status', 'running'), eq('shard', job.shard)) },
    ),
    ...Array.from({ length: billingShardCount }, (_, shard) =>
      billingPeriods.put({ period: job.period, shard, closedAt }),
    ),
  ]);
}
