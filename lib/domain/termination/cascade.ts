import { boundedAll } from '../../concurrency.js';
import {
  type CascadeJob,
  cascadeJobs,
  cascadeStartCursor,
  readCascadeJob,
} from '../../data/cascade-job.js';
import {
  type BranchPageKey,
  type CustomerRecord,
  customers,
  isMainOffice,
  mainOfficeOf,
  parseCustomerRecord,
  queryBranchIds,
  readCustomer,
  terminationUpdate,
} from '../../data/customer.js';
import { and, eq, notExists } from '../../data/expressions.js';
import { customerKey, terminationCascadeKey } from '../../data/keys.js';
import { writeItem } from '../../data/table.js';
import type { ServiceContext } from '../../service-context.js';
import type { TerminationEffect } from './effects.js';

export const cascadeLimits = {
  /** Branches one invocation handles before handing over to the next. */
  chunkSize: 1000,
  /** Branches read per query. */
  pageSize: 250,
  /** Branch updates in flight at once. */
  concurrency: 16,
  /** Passes before the job gives up (and its record goes to the dead-letter queue). */
  maxPasses: 5,
} as const;

/**
 * What the stream consumer does for a customer that became terminated: check the
 * current item (the record may be stale, replayed, or a phantom of a cancelled
 * transaction), apply the termination effects, and for a main office with branches
 * start the cascade job (once: the put is conditional).
 */
export async function onCustomerTerminated(
  ctx: ServiceContext,
  image: CustomerRecord,
  effects: readonly TerminationEffect[],
): Promise<void> {
  if (!isMainOffice(image) && effects.length === 0) return;
  const current = await readCustomer(ctx.db, image.id);
  if (current?.status !== 'terminated') return;
  // The cascade starts first: an effect that keeps failing must not hold the branches up.
  await startCascade(ctx, current);
  for (const effect of effects) await effect(ctx, current);
}

/** Puts the cascade job of a terminated main office with branches, unless it has one already. */
export async function startCascade(ctx: ServiceContext, current: CustomerRecord): Promise<void> {
  if (!isMainOffice(current) || current.additionalInfo.officeHierarchy.branchCount === 0) return;
  // A failed condition is a duplicate record: the job exists and goes on by itself.
  await writeItem(
    ctx.db,
    cascadeJobs.put(
      {
        mainOfficeId: current.id,
        status: 'running',
        cursor: cascadeStartCursor,
        pass: 1,
        found: 0,
        terminatedCount: 0,
      },
      { condition: notExists('pk') },
    ),
  );
}

type BranchOutcome = 'terminated' | 'already' | 'gone';

/** The cascade's write of one branch: terminated, if it is still an active branch of this main office. */
export const branchTermination = (branchId: string, mainOfficeId: string, now: string) =>
  customers.update(
    customerKey(branchId),
    terminationUpdate({ reason: 'main_office_terminated', mainOfficeId }, now),
    {
      condition: and(
        eq('status', 'active'),
        eq('additionalInfo.officeHierarchy.office', 'branch'),
        eq('additionalInfo.officeHierarchy.mainOfficeId', mainOfficeId),
      ),
    },
  );

/** Terminates one branch if it is still an active branch of this main office. */
async function terminateBranch(
  ctx: ServiceContext,
  branchId: string,
  mainOfficeId: string,
): Promise<BranchOutcome> {
  const outcome = await writeItem(
    ctx.db,
    branchTermination(branchId, mainOfficeId, ctx.now().toISOString()),
  );
  if (outcome.written) return 'terminated';
  const current = outcome.current ? parseCustomerRecord(outcome.current) : undefined;
  // A terminated branch is final, so one still linked here stays linked and counts as found.
  return current?.status === 'terminated' && mainOfficeOf(current) === mainOfficeId
    ? 'already'
    : 'gone';
}

/**
 * One chunk of a cascade job, for the job's stream record. A record that is not the
 * job's current state (stale or replayed) does nothing; the job update that hands
 * over to the next chunk is conditioned on the cursor this chunk started from, so a
 * chunk delivered twice advances the job once.
 */
export async function continueCascade(ctx: ServiceContext, image: CascadeJob): Promise<void> {
  const job = await readCascadeJob(ctx.db, image.mainOfficeId);
  if (job?.status !== 'running' || job.cursor !== image.cursor || job.pass !== image.pass) return;

  let startKey: BranchPageKey | undefined =
    job.cursor === cascadeStartCursor ? undefined : JSON.parse(job.cursor);
  let found = 0;
  let terminated = 0;
  let handled = 0;
  do {
    const page = await queryBranchIds(ctx.db, job.mainOfficeId, {
      limit: cascadeLimits.pageSize,
      startKey,
    });
    const outcomes = await boundedAll(page.branches, cascadeLimits.concurrency, (branch) =>
      branch.status === 'active'
        ? terminateBranch(ctx, branch.id, job.mainOfficeId)
        : Promise.resolve<BranchOutcome>('already'),
    );
    found += outcomes.filter((outcome) => outcome !== 'gone').length;
    terminated += outcomes.filter((outcome) => outcome === 'terminated').length;
    handled += page.branches.length;
    startKey = page.nextPage;
  } while (startKey && handled < cascadeLimits.chunkSize);

  const progress = { found: job.found + found, terminatedCount: job.terminatedCount + terminated };
  if (startKey) return advance(ctx, job, { ...progress, cursor: JSON.stringify(startKey) });

  // End of a pass: every branch the main office counts must have been found. Fewer
  // means the index had not caught up with a link committed just before the
  // termination; another pass finds it.
  const mainOffice = await readCustomer(ctx.db, job.mainOfficeId);
  const expected = mainOffice?.additionalInfo.officeHierarchy.branchCount ?? 0;
  if (progress.found >= expected) return advance(ctx, job, { ...progress, status: 'done' });
  if (job.pass >= cascadeLimits.maxPasses) {
    throw new Error(
      `Cascade of ${job.mainOfficeId}: pass ${job.pass} found ${progress.found} of ${expected} branches`,
    );
  }
  return advance(ctx, job, {
    found: 0,
    terminatedCount: progress.terminatedCount,
    cursor: cascadeStartCursor,
    pass: job.pass + 1,
  });
}

/**
 * Hands the job over to its next chunk, unless another delivery of this chunk already
 * did: then the condition on the cursor and pass it started from fails, and nothing changes.
 */
export async function advance(
  ctx: ServiceContext,
  job: CascadeJob,
  changes: Partial<CascadeJob>,
): Promise<void> {
  await writeItem(
    ctx.db,
    cascadeJobs.update(
      terminationCascadeKey(job.mainOfficeId),
      { set: changes },
      { condition: and(eq('cursor', job.cursor), eq('pass', job.pass)) },
    ),
  );
}
