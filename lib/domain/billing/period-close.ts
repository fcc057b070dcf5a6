import { charges } from '../../data/charge.js';
import { customerDids } from '../../data/customer-did.js';
import { and, eq, notExists } from '../../data/expressions.js';
import { billingPeriods } from '../../data/invoice.js';
import {
  assignedDidsPartition,
  billingPeriodKey,
  billingShardCount,
  periodCloseKey,
} from '../../data/keys.js';
import { type PeriodClose, periodCloseStartCursor, periodCloses } from '../../data/period-close.js';
import {
  batchGetItems,
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
): Promise<{ readonly close: PeriodCloseView; readonly started: boolean }> {
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
    if (outcome.written) return { close: viewOfPeriodClose(job, 0), started: true };
    const { job: current, counted } = await readJobAndCounted(ctx, period);
    // Refused for a job that is not there: it changed meanwhile; try again.
    if (!current) throw new WriteConflict();
    return { close: viewOfPeriodClose(current, counted), started: false };
  });
}

const periodStateKeys = (period: string) =>
  Array.from({ length: billingShardCount }, (_, shard) => billingPeriodKey(period, shard));

/** The job and how many of its charges are counted: one BatchGetItem of 17 items. */
async function readJobAndCounted(ctx: ServiceContext, period: string) {
  const items = await batchGetItems(ctx.db, [periodCloseKey(period), ...periodStateKeys(period)]);
  const counted = periodStateKeys(period).reduce(
    (sum, key) => sum + (billingPeriods.from(items, key)?.recurringCounted ?? 0),
    0,
  );
  return { job: periodCloses.from(items, periodCloseKey(period)), counted };
}

export async function readPeriodClose(
  ctx: ServiceContext,
  period: string,
): Promise<PeriodCloseView> {
  const { job, counted } = await readJobAndCounted(ctx, period);
  if (!job) throw notFound(`Period ${period} has no close.`);
  return viewOfPeriodClose(job, counted);
}

const viewOfPeriodClose = (job: PeriodClose, counted: number): PeriodCloseView => ({
  period: job.period,
  status:
    job.status === 'closed' ? 'closed' : job.shard >= billingShardCount ? 'counting' : 'running',
  shardsDone: Math.min(job.shard, billingShardCount),
  shardCount: billingShardCount,
  recurringCharges: job.recurringCharges,
  // The job and the shards are read side by side: a count may be ahead of the job's.
  recurringChargesCounted: Math.min(counted, job.recurringCharges),
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
  // Past the last shard there is no page: the last step reads the job itself.
  if (image.shard >= billingShardCount) return closePeriodWhenCounted(ctx, image.period);
  const job = await periodCloses.get(ctx.db, periodCloseKey(image.period));
  if (job?.status !== 'running' || job.shard !== image.shard || job.cursor !== image.cursor) return;

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

/**
 * The last step, once every shard is charged and every charge written is counted: the
 * job and the period's state shards closed in one transaction, so a closed invoice
 * holds its recurring charges. Run by the job's record after its last shard and after
 * each aggregation batch that counted recurring charges of the period; each reads
 * after its own write, so the later of the two sees both done.
 */
export async function closePeriodWhenCounted(ctx: ServiceContext, period: string): Promise<void> {
  const { job, counted } = await readJobAndCounted(ctx, period);
  if (job?.status !== 'running' || job.shard < billingShardCount) return;
  if (counted < job.recurringCharges) return;
  const closedAt = ctx.now().toISOString();
  // A failure can only be the job's condition: another run closed it already.
  await retryOnWriteConflict(() =>
    transactReportingFailures(ctx.db, [
      periodCloses.update(
        periodCloseKey(period),
        { set: { status: 'closed', closedAt } },
        { condition: and(eq('status', 'running'), eq('shard', job.shard)) },
      ),
      ...periodStateKeys(period).map((key, shard) =>
        billingPeriods.update(key, { set: { period, shard, closedAt } }),
      ),
    ]),
  );
}
