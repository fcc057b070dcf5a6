import * as z from 'zod';
import { defineEntity } from './entity.js';
import { entityTypes, periodCloseKey } from './keys.js';

/** The cursor of a shard whose first page has not been read yet. */
export const periodCloseStartCursor = 'START';

/**
 * The monthly close of one period (§9). Each stream record of the job charges one page
 * of assigned DIDs and advances `shard`/`cursor` in the same transaction as those
 * charges; that change is the record that runs the next page. When the last shard is
 * done and the aggregation has counted every charge written, the period's state shards
 * are closed with the job, in one transaction.
 */
const periodCloseSchema = z.object({
  period: z.string(),
  status: z.enum(['running', 'closed']),
  /** The `assignedDids` shard being charged (0 to 15). */
  shard: z.number().int().min(0),
  /** Where that shard goes on (a JSON start key), or `periodCloseStartCursor`. */
  cursor: z.string(),
  /** Recurring DID charges this job wrote. */
  recurringCharges: z.number().int().min(0),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});
export type PeriodClose = z.infer<typeof periodCloseSchema>;

export const periodCloses = defineEntity({
  type: entityTypes.periodClose,
  schema: periodCloseSchema,
  keyOf: (job) => periodCloseKey(job.period),
});
