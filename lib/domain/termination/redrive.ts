import { type CascadeJob, cascadeStartCursor, readCascadeJob } from '../../data/cascade-job.js';
import { isMainOffice, readCustomer } from '../../data/customer.js';
import type { ServiceContext } from '../../service-context.js';
import { advance, startCascade } from './cascade.js';
import type { TerminationEffect } from './effects.js';

/**
 * Re-drives the termination of a customer, for an operator after its record reached
 * the dead-letter queue: the termination effects run again, and for a main office a
 * new cascade job starts when none exists, a job in progress is nudged (its change is
 * a new stream record running the next chunk again), and a finished job runs one
 * more pass to check. Safe to run any time.
 */
export async function resumeCascade(
  ctx: ServiceContext,
  mainOfficeId: string,
  effects: readonly TerminationEffect[] = [],
): Promise<CascadeJob | 'no_cascade'> {
  const mainOffice = await readCustomer(ctx.db, mainOfficeId);
  if (mainOffice?.status !== 'terminated') return 'no_cascade';
  for (const effect of effects) await effect(ctx, mainOffice);
  if (!isMainOffice(mainOffice)) return 'no_cascade';
  const job = await readCascadeJob(ctx.db, mainOfficeId);
  if (!job) {
    await startCascade(ctx, mainOffice);
  } else {
    await advance(
      ctx,
      job,
      job.status === 'done'
        ? { status: 'running', cursor: cascadeStartCursor, pass: job.pass + 1, found: 0 }
        : { resumedAt: ctx.now().toISOString() },
    );
  }
  return (await readCascadeJob(ctx.db, mainOfficeId)) ?? 'no_cascade';
}
