import * as z from 'zod';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { entityTypes, terminationCascadeKey } from './keys.js';

/** The cursor of a pass that has not read its first page of the branch index yet. */
export const cascadeStartCursor = 'START';

/**
 * The job that terminates a main office's branches, stored beside the main office.
 * Each stream record of the job runs one bounded chunk and advances `cursor`, whose
 * change is itself the stream record that runs the next chunk: no invocation has to
 * finish everything, and a crash resumes from the last cursor written.
 */
const cascadeJobSchema = z.object({
  mainOfficeId: z.string(),
  status: z.enum(['running', 'done']),
  /** Where the current pass goes on in the branch index (a JSON start key), or `cascadeStartCursor`. */
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

export const cascadeJobs = defineEntity({
  type: entityTypes.terminationCascade,
  schema: cascadeJobSchema,
  keyOf: (job) => terminationCascadeKey(job.mainOfficeId),
});

export const parseCascadeJob = cascadeJobs.parse;

/** Strongly consistent read of a main office's cascade job, or undefined. */
export const readCascadeJob = (db: Db, mainOfficeId: string): Promise<CascadeJob | undefined> =>
  cascadeJobs.get(db, terminationCascadeKey(mainOfficeId));
