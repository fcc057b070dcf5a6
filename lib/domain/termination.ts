import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { boundedAll } from '../concurrency.js';
import { conditionFailure } from '../data/conditions.js';
import {
  type CustomerRecord,
  isMainOffice,
  mainOfficeOf,
  parseCustomerRecord,
} from '../data/customer-records.js';
import {
  branchesPartition,
  customerKey,
  entityTypes,
  terminationCascadeKey,
} from '../data/keys.js';
import type { IfMatch } from '../data/versioning.js';
import { retryOnWriteConflict } from '../data/write-conflicts.js';
import { preconditionFailed } from '../errors.js';
import type { Caller } from '../http/caller.js';
import type { ServiceContext } from '../service-context.js';
import {
  customerWriteGuards,
  guardRefusal,
  presentWritten,
  readCustomerRecord,
  type VersionedCustomer,
} from './customers.js';

/**
 * Something else that happens to every terminated customer, whether terminated by
 * request or by its main office (lib/domain/termination-effects.ts lists them). Each
 * must be idempotent: a stream record can be delivered more than once.
 */
export type TerminationEffect = (ctx: ServiceContext, customer: CustomerRecord) => Promise<void>;

/**
 * POST /customers/{id}/terminate: one conditional UpdateItem. A terminated customer
 * is final; terminating it again answers it unchanged. The cascade to its branches
 * runs from the table's stream, never inside this request.
 */
export async function terminateCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
  ifMatch: IfMatch,
): Promise<VersionedCustomer> {
  const values: Record<string, unknown> = {
    ':terminated': 'terminated',
    ':terminatedBy': { reason: 'requested' },
    ':now': ctx.now().toISOString(),
    ':one': 1,
  };
  const guards = customerWriteGuards(caller, ifMatch, values);
  return retryOnWriteConflict(async () => {
    try {
      const { Attributes } = await ctx.db.client.send(
        new UpdateCommand({
          TableName: ctx.db.tableName,
          Key: customerKey(id),
          // Leaving the dropdown is part of the same write: its index entries go with the state.
          UpdateExpression:
            'SET #status = :terminated, terminatedAt = :now, terminatedBy = :terminatedBy, ' +
            'updatedAt = :now, #version = #version + :one REMOVE mainOfficeAllPk, mainOfficeResellerPk',
          ConditionExpression: guards.join(' AND '),
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return presentWritten(ctx, parseCustomerRecord(Attributes ?? {}));
    } catch (error) {
      const failure = conditionFailure(error);
      if (!failure) throw error;
      const current = failure.item ? parseCustomerRecord(failure.item) : undefined;
      const refusal = guardRefusal(caller, id, current, { kind: 'absent' });
      // Already terminated: the second request changes nothing and says so with the same answer.
      if (refusal?.code === 'customer_terminated' && current) return presentWritten(ctx, current);
      if (refusal) throw refusal;
      throw preconditionFailed();
    }
  });
}

// The cascade -----------------------------------------------------------------

/**
 * The job that terminates a main office's branches, stored beside the main office.
 * Each stream record of the job runs one bounded chunk and advances `cursor`, whose
 * change is itself the stream record that runs the next chunk: no invocation has to
 * finish everything, and a crash resumes from the last cursor written.
 */
const cascadeJobSchema = z.object({
  mainOfficeId: z.string(),
  status: z.enum(['running', 'done']),
  /** Where the current pass goes on in the branch index; 'START' before its first page. */
  cursor: z.string(),
  /** Passes over the branch index; a pass that finds fewer branches than the count starts another. */
  pass: z.number().int().min(1),
  /** Branches found linked in this pass, terminated now or before. */
  found: z.number().int().min(0),
  terminatedCount: z.number().int().min(0),
  /** Set by an operator's re-drive: the change alone makes a new stream record. */
  resumedAt: z.string().optional(),
});
export type CascadeJob = z.infer<typeof cascadeJobSchema>;

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

const startCursor = 'START';

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
  const current = await readCustomerRecord(ctx, image.id);
  if (current?.status !== 'terminated') return;
  // The cascade starts first: an effect that keeps failing must not hold the branches up.
  await startCascade(ctx, current);
  for (const effect of effects) await effect(ctx, current);
}

async function startCascade(ctx: ServiceContext, current: CustomerRecord): Promise<void> {
  if (!isMainOffice(current) || current.additionalInfo.officeHierarchy.branchCount === 0) return;
  const job: CascadeJob = {
    mainOfficeId: current.id,
    status: 'running',
    cursor: startCursor,
    pass: 1,
    found: 0,
    terminatedCount: 0,
  };
  await ctx.db.client
    .send(
      new PutCommand({
        TableName: ctx.db.tableName,
        Item: {
          ...terminationCascadeKey(current.id),
          entityType: entityTypes.terminationCascade,
          ...job,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
    .catch((error: unknown) => {
      if (!conditionFailure(error)) throw error;
    });
}

type BranchOutcome = 'terminated' | 'already' | 'gone';

/** Terminates one branch if it is still an active branch of this main office. */
async function terminateBranch(
  ctx: ServiceContext,
  branchId: string,
  mainOfficeId: string,
): Promise<BranchOutcome> {
  const now = ctx.now().toISOString();
  try {
    await ctx.db.client.send(
      new UpdateCommand({
        TableName: ctx.db.tableName,
        Key: customerKey(branchId),
        UpdateExpression:
          'SET #status = :terminated, terminatedAt = :now, terminatedBy = :terminatedBy, updatedAt = :now, ' +
          '#version = #version + :one',
        ConditionExpression:
          '#status = :active AND #info.#hierarchy.#office = :branch AND #info.#hierarchy.#mainOfficeId = :mainOfficeId',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#version': 'version',
          '#info': 'additionalInfo',
          '#hierarchy': 'officeHierarchy',
          '#office': 'office',
          '#mainOfficeId': 'mainOfficeId',
        },
        ExpressionAttributeValues: {
          ':terminated': 'terminated',
          ':active': 'active',
          ':branch': 'branch',
          ':mainOfficeId': mainOfficeId,
          ':terminatedBy': { reason: 'main_office_terminated', mainOfficeId },
          ':now': now,
          ':one': 1,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'terminated';
  } catch (error) {
    const failure = conditionFailure(error);
    if (!failure) throw error;
    const current = failure.item ? parseCustomerRecord(failure.item) : undefined;
    // A terminated branch is final, so one still linked here stays linked and counts as found.
    return current && current.status === 'terminated' && mainOfficeOf(current) === mainOfficeId
      ? 'already'
      : 'gone';
  }
}

/**
 * One chunk of a cascade job, for the job's stream record. A record that is not the
 * job's current state (stale or replayed) does nothing; the job update that hands
 * over to the next chunk is conditioned on the cursor this chunk started from, so a
 * chunk delivered twice advances the job once.
 */
export async function continueCascade(ctx: ServiceContext, image: CascadeJob): Promise<void> {
  const key = terminationCascadeKey(image.mainOfficeId);
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: key, ConsistentRead: true }),
  );
  const job = Item ? cascadeJobSchema.parse(Item) : undefined;
  if (job?.status !== 'running' || job.cursor !== image.cursor || job.pass !== image.pass) return;

  const partition = branchesPartition(job.mainOfficeId);
  let startKey: Record<string, unknown> | undefined =
    job.cursor === startCursor ? undefined : JSON.parse(job.cursor);
  let found = 0;
  let terminated = 0;
  let handled = 0;
  do {
    const { Items = [], LastEvaluatedKey } = await ctx.db.client.send(
      new QueryCommand({
        TableName: ctx.db.tableName,
        IndexName: 'branchesByMainOffice',
        KeyConditionExpression: 'mainOfficePk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ProjectionExpression: 'id, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        Limit: cascadeLimits.pageSize,
        ExclusiveStartKey: startKey,
      }),
    );
    const outcomes = await boundedAll(Items, cascadeLimits.concurrency, (item) =>
      item.status === 'active'
        ? terminateBranch(ctx, String(item.id), job.mainOfficeId)
        : Promise.resolve<BranchOutcome>('already'),
    );
    found += outcomes.filter((outcome) => outcome !== 'gone').length;
    terminated += outcomes.filter((outcome) => outcome === 'terminated').length;
    handled += Items.length;
    startKey = LastEvaluatedKey;
  } while (startKey && handled < cascadeLimits.chunkSize);

  const progress = { found: job.found + found, terminatedCount: job.terminatedCount + terminated };
  if (startKey) return advance(ctx, job, { ...progress, cursor: JSON.stringify(startKey) });

  // End of a pass: every branch the main office counts must have been found. Fewer
  // means the index had not caught up with a link committed just before the
  // termination; another pass finds it.
  const mainOffice = await readCustomerRecord(ctx, job.mainOfficeId);
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
    cursor: startCursor,
    pass: job.pass + 1,
  });
}

/** Hands the job over to its next chunk, unless another delivery of this chunk already did. */
async function advance(
  ctx: ServiceContext,
  job: CascadeJob,
  changes: Partial<CascadeJob>,
): Promise<void> {
  const names = Object.fromEntries(Object.keys(changes).map((field) => [`#${field}`, field]));
  const values = Object.fromEntries(
    Object.entries(changes).map(([field, value]) => [`:${field}`, value]),
  );
  await ctx.db.client
    .send(
      new UpdateCommand({
        TableName: ctx.db.tableName,
        Key: terminationCascadeKey(job.mainOfficeId),
        UpdateExpression: `SET ${Object.keys(changes)
          .map((field) => `#${field} = :${field}`)
          .join(', ')}`,
        ConditionExpression: '#cursorNow = :cursorThen AND #passNow = :passThen',
        ExpressionAttributeNames: { ...names, '#cursorNow': 'cursor', '#passNow': 'pass' },
        ExpressionAttributeValues: { ...values, ':cursorThen': job.cursor, ':passThen': job.pass },
      }),
    )
    .catch((error: unknown) => {
      if (!conditionFailure(error)) throw error;
    });
}

export const parseCascadeJob = (item: Record<string, unknown>): CascadeJob =>
  cascadeJobSchema.parse(item);

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
  const mainOffice = await readCustomerRecord(ctx, mainOfficeId);
  if (mainOffice?.status !== 'terminated') return 'no_cascade';
  for (const effect of effects) await effect(ctx, mainOffice);
  if (!isMainOffice(mainOffice)) return 'no_cascade';
  const key = terminationCascadeKey(mainOfficeId);
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: key, ConsistentRead: true }),
  );
  if (!Item) {
    await startCascade(ctx, mainOffice);
  } else {
    const job = cascadeJobSchema.parse(Item);
    await advance(
      ctx,
      job,
      job.status === 'done'
        ? { status: 'running', cursor: startCursor, pass: job.pass + 1, found: 0 }
        : { resumedAt: ctx.now().toISOString() },
    );
  }
  const { Item: after } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: key, ConsistentRead: true }),
  );
  return after ? cascadeJobSchema.parse(after) : 'no_cascade';
}
