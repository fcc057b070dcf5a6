import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CascadeJob } from '../../../../../lib/data/cascade-job.js';
import { type CustomerRecord, customerItem } from '../../../../../lib/data/customer.js';
import {
  cascadeLimits,
  continueCascade,
  onCustomerTerminated,
} from '../../../../../lib/domain/termination/cascade.js';
import type { TerminationEffect } from '../../../../../lib/domain/termination/effects.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import { unitContext as ctx, now } from '../../../../fixtures/service-context.js';
import {
  cascadeJob as job,
  cascadeJobItem as jobItem,
  cascadeJobKey as jobKey,
  terminatedShape as terminated,
} from '../../../../fixtures/termination.js';

const ddb = mockClient(DynamoDBDocumentClient);

const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
const terminatedByHq = { reason: 'main_office_terminated', mainOfficeId: 'hq' } as const;
const hqWith = (branchCount: number) =>
  mainOffice('hq', { ...terminated(), hierarchy: { branchCount } });

/** What a strongly consistent read of the item answers: the record, or nothing. */
const storedCustomer = (record: CustomerRecord) =>
  ddb.on(GetCommand, { Key: customerKey(record.id) }).resolves({ Item: customerItem(record) });
const storedJob = (cascade: CascadeJob) =>
  ddb.on(GetCommand, { Key: jobKey(cascade.mainOfficeId) }).resolves({ Item: jobItem(cascade) });
/** The branch's update fails its condition, the branch being as given (or absent). */
const refusedBranch = (id: string, asItWas?: CustomerRecord) =>
  ddb
    .on(UpdateCommand, { Key: customerKey(id) })
    .rejects(conditionFailed(asItWas ? customerItem(asItWas) : undefined));

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
});

const updatesOf = (sk: string) =>
  ddb
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.Key?.sk === sk);
const branchUpdates = () => updatesOf('CUSTOMER');
const jobUpdates = () => updatesOf('TERMINATION_CASCADE');
const updatedBranchIds = () =>
  branchUpdates()
    .map((input) => String(input.Key?.pk).replace('CUSTOMER#', ''))
    .sort();
const writes = () => ddb.commandCalls(PutCommand).length + ddb.commandCalls(UpdateCommand).length;

describe('onCustomerTerminated', () => {
  const noEffects: readonly TerminationEffect[] = [];
  /** An effect that notes the customer it ran for, and how many calls came before it. */
  const recordingEffect = () => {
    const ran: { id: string; version: number; callsBefore: number }[] = [];
    const effect: TerminationEffect = async (_ctx, record) => {
      ran.push({ id: record.id, version: record.version, callsBefore: ddb.calls().length });
    };
    return { effect, ran };
  };

  it('does nothing, not even a read, for a customer that is no main office when there are no effects', async () => {
    await onCustomerTerminated(ctx, customer('c1', terminated()), noEffects);
    await onCustomerTerminated(ctx, branchOf('b1', 'hq', terminated()), noEffects);

    expect(ddb.calls()).toHaveLength(0);
  });

  it('runs each effect on the current item of any terminated customer, branch or not', async () => {
    const first = recordingEffect();
    const second = recordingEffect();
    storedCustomer(branchOf('b1', 'hq', { ...terminated(terminatedByHq), version: 9 }));

    await onCustomerTerminated(ctx, branchOf('b1', 'hq', { ...terminated(), version: 8 }), [
      first.effect,
      second.effect,
    ]);

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: customerKey('b1'),
      ConsistentRead: true,
    });
    expect(first.ran).toEqual([{ id: 'b1', version: 9, callsBefore: 1 }]);
    expect(second.ran).toEqual([{ id: 'b1', version: 9, callsBefore: 1 }]);
    expect(writes()).toBe(0);
  });

  it('puts the running job of a terminated main office, once, before its effects run', async () => {
    const { effect, ran } = recordingEffect();
    storedCustomer(hqWith(3));

    await onCustomerTerminated(ctx, hqWith(3), [effect]);

    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.Item).toEqual(jobItem(job()));
    // Only if there is none yet: a second record of the termination must not restart it.
    expect(put?.ConditionExpression).toBeDefined();
    // The read of the main office and the put of its job come before the effect runs.
    expect(ran).toEqual([{ id: 'hq', version: 4, callsBefore: 2 }]);
  });

  it('changes nothing for a duplicate record whose job exists, but lets other errors through', async () => {
    storedCustomer(hqWith(3));
    ddb.on(PutCommand).rejects(conditionFailed(jobItem(job({ cursor: '{"pk":"x"}' }))));

    await expect(onCustomerTerminated(ctx, hqWith(3), noEffects)).resolves.toBeUndefined();
    expect(writes()).toBe(1);

    ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(onCustomerTerminated(ctx, hqWith(3), noEffects)).rejects.toThrow('throttled');
  });

  it('does nothing when the current item is not terminated (a stale or phantom record) or absent', async () => {
    const { effect, ran } = recordingEffect();
    storedCustomer(mainOffice('hq', { hierarchy: { branchCount: 3 } }));

    await onCustomerTerminated(ctx, hqWith(3), [effect]);
    await onCustomerTerminated(ctx, mainOffice('absent', terminated()), [effect]);

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(writes()).toBe(0);
    expect(ran).toEqual([]);
  });

  it('starts no job for a main office that counts no branches now, whatever the image says', async () => {
    storedCustomer(hqWith(0));

    await onCustomerTerminated(ctx, hqWith(0), noEffects);
    await onCustomerTerminated(ctx, hqWith(2), noEffects);

    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    expect(writes()).toBe(0);
  });
});

describe('continueCascade', () => {
  /** A row of the branch index, as the cascade projects it. */
  const row = (id: string, status: 'active' | 'terminated' = 'active') => ({ id, status });
  /** The key DynamoDB returns after a row of the branch index. */
  const keyAfter = (id: string) => ({
    pk: `CUSTOMER#${id}`,
    sk: 'CUSTOMER',
    mainOfficePk: 'BRANCHES#hq',
    nameSk: `customer ${id}#${id}`,
  });
  /** The pages the branch index answers, one query after another. */
  const pages = (...outputs: Partial<QueryCommandOutput>[]) => {
    const behaviour = ddb.on(QueryCommand);
    for (const output of outputs) behaviour.resolvesOnce(output);
  };
  const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);

  it.each([
    ['the cursor moved on', job({ cursor: JSON.stringify(keyAfter('b5')) })],
    ['another pass began', job({ pass: 2 })],
    ['the job is done', job({ status: 'done' })],
  ])('does no query and no write for a stale record: %s', async (_label, current) => {
    storedJob(current);
    storedCustomer(hqWith(2));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, job());

    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: jobKey('hq'), ConsistentRead: true });
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 0);
    expect(writes()).toBe(0);
  });

  it('does no query and no write when the job does not exist', async () => {
    await continueCascade(ctx, job());

    expect(ddb.calls()).toHaveLength(1);
  });

  it('terminates the active branches the index lists, as terminated by their main office', async () => {
    storedJob(job());
    storedCustomer(hqWith(2));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, job());

    expect(queries()).toEqual([
      expect.objectContaining({
        IndexName: 'branchesByMainOffice',
        Limit: cascadeLimits.pageSize,
        ExclusiveStartKey: undefined,
      }),
    ]);
    expect(valuesIn(queries()[0])).toContain('BRANCHES#hq');
    expect(updatedBranchIds()).toEqual(['b1', 'b2']);
    for (const update of branchUpdates()) {
      expect(valuesIn(update)).toEqual(expect.arrayContaining(['terminated', terminatedByHq, now]));
      expect(namesIn(update)).toEqual(
        expect.arrayContaining(['terminatedAt', 'terminatedBy', 'updatedAt', 'version']),
      );
      // Only if it is still an active branch of this main office.
      expect(update.ConditionExpression).toBeDefined();
      expect(valuesIn(update)).toEqual(expect.arrayContaining(['active', 'branch', 'hq']));
    }
    expect(jobUpdates()).toHaveLength(1);
    expect(valuesIn(jobUpdates()[0])).toEqual(expect.arrayContaining(['done', 2]));
  });

  it('counts branches the index shows terminated as found, without writing them', async () => {
    storedJob(job());
    storedCustomer(hqWith(3));
    pages({ Items: [row('b1', 'terminated'), row('b2'), row('b3', 'terminated')] });

    await continueCascade(ctx, job());

    expect(updatedBranchIds()).toEqual(['b2']);
    // found 3 of 3, 1 terminated now: the job is done.
    expect(valuesIn(jobUpdates()[0])).toEqual(expect.arrayContaining(['done', 3, 1]));
  });

  it('counts a branch terminated meanwhile as found, and one that moved away or vanished not at all', async () => {
    storedJob(job());
    storedCustomer(hqWith(2));
    refusedBranch('b1', branchOf('b1', 'other'));
    refusedBranch('b2', branchOf('b2', 'hq', terminated()));
    refusedBranch('b3', branchOf('b3', 'other', terminated()));
    refusedBranch('b4', mainOffice('b4'));
    refusedBranch('b5');
    pages({ Items: ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((id) => row(id)) });

    await continueCascade(ctx, job());

    // b2 (terminated before) and b6 (terminated now) are found: 2 of 2, the pass is complete.
    expect(updatedBranchIds()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    expect(jobUpdates()).toHaveLength(1);
    const progress = valuesIn(jobUpdates()[0]);
    expect(progress).toEqual(expect.arrayContaining(['done', 2, 1]));
  });

  it('hands over to the next chunk after chunkSize branches, with the JSON cursor, conditioned on where it started', async () => {
    const pageCount = Math.ceil(cascadeLimits.chunkSize / cascadeLimits.pageSize);
    const started = job({
      cursor: JSON.stringify(keyAfter('a0')),
      pass: 2,
      found: 40,
      terminatedCount: 30,
    });
    storedJob(started);
    storedCustomer(hqWith(5000));
    // Each page holds one active branch and the rest already terminated; one more page waits.
    const pageRows = (page: number) =>
      Array.from({ length: cascadeLimits.pageSize }, (_, index) =>
        row(`p${page}r${index}`, index === 0 ? 'active' : 'terminated'),
      );
    pages(
      ...Array.from({ length: pageCount + 1 }, (_, page) => ({
        Items: pageRows(page),
        LastEvaluatedKey: keyAfter(`p${page}`),
      })),
    );

    await continueCascade(ctx, started);

    expect(queries().map((input) => input.ExclusiveStartKey)).toEqual([
      keyAfter('a0'),
      ...Array.from({ length: pageCount - 1 }, (_, page) => keyAfter(`p${page}`)),
    ]);
    expect(updatedBranchIds()).toHaveLength(pageCount);
    // The pass is not over: the main office's count is not read yet.
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(jobUpdates()).toHaveLength(1);
    const handover = jobUpdates()[0];
    expect(handover?.Key).toEqual(jobKey('hq'));
    expect(handover?.ConditionExpression).toBeDefined();
    expect(valuesIn(handover)).toEqual(
      expect.arrayContaining([
        JSON.stringify(keyAfter(`p${pageCount - 1}`)),
        40 + pageCount * cascadeLimits.pageSize,
        30 + pageCount,
        // The cursor and pass it started from, which its condition compares.
        started.cursor,
        2,
      ]),
    );
    expect(valuesIn(handover)).not.toContain('done');
  });

  it('finishes the job at the end of a pass that found every branch the main office counts', async () => {
    const started = job({ cursor: JSON.stringify(keyAfter('a0')), found: 1000 });
    storedJob(started);
    storedCustomer(hqWith(1002));
    pages({ Items: [row('b1'), row('b2', 'terminated')] });

    await continueCascade(ctx, started);

    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: customerKey('hq'),
      ConsistentRead: true,
    });
    expect(jobUpdates()).toHaveLength(1);
    expect(valuesIn(jobUpdates()[0])).toEqual(
      expect.arrayContaining(['done', 1002, 1, started.cursor]),
    );
  });

  it('starts another pass from the start when the index lags behind a link: fewer found than counted', async () => {
    // The last chunk of the first pass, which found 1000 branches before this one.
    const lastChunk = job({
      cursor: JSON.stringify(keyAfter('a0')),
      found: 1000,
      terminatedCount: 7,
    });
    storedJob(lastChunk);
    storedCustomer(hqWith(1003));
    pages({ Items: [row('b1'), row('b2')] });

    await continueCascade(ctx, lastChunk);

    expect(jobUpdates()).toHaveLength(1);
    const nextPass = valuesIn(jobUpdates()[0]);
    // found back to 0, 9 terminated in all, from START in pass 2; conditioned on pass 1's cursor.
    expect(nextPass).toEqual(expect.arrayContaining([0, 9, 'START', 2, lastChunk.cursor, 1]));
    expect(nextPass).not.toContain('done');
  });

  it('throws after maxPasses passes that found too few, leaving the job as it was', async () => {
    const last = job({ pass: cascadeLimits.maxPasses });
    storedJob(last);
    storedCustomer(hqWith(3));
    pages({ Items: [row('b1'), row('b2')] });

    await expect(continueCascade(ctx, last)).rejects.toThrow(
      `pass ${cascadeLimits.maxPasses} found 2 of 3 branches`,
    );
    expect(jobUpdates()).toHaveLength(0);
  });

  it('fails the chunk on an error other than a condition, without advancing the job', async () => {
    storedJob(job());
    storedCustomer(hqWith(2));
    ddb.on(UpdateCommand, { Key: customerKey('b2') }).rejects(new Error('throttled'));
    pages({ Items: [row('b1'), row('b2')] });

    await expect(continueCascade(ctx, job())).rejects.toThrow('throttled');
    expect(jobUpdates()).toHaveLength(0);
  });

  it('advances once for a chunk delivered twice, and does nothing for it after', async () => {
    const handedOver = job({ cursor: 'START', pass: 2 });
    // Both deliveries read the job before either hands over; a third reads it handed over.
    ddb
      .on(GetCommand, { Key: jobKey('hq') })
      .resolvesOnce({ Item: jobItem(job()) })
      .resolvesOnce({ Item: jobItem(job()) })
      .resolves({ Item: jobItem(handedOver) });
    storedCustomer(hqWith(3));
    ddb.on(QueryCommand).resolves({ Items: [row('b1'), row('b2')] });
    // The first hand-over wins; the second one's condition meets the job handed over.
    ddb
      .on(UpdateCommand, { Key: jobKey('hq') })
      .resolvesOnce({})
      .rejects(conditionFailed(jobItem(handedOver)));

    await continueCascade(ctx, job());
    await expect(continueCascade(ctx, job())).resolves.toBeUndefined();
    await continueCascade(ctx, job());

    expect(jobUpdates()).toHaveLength(2);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
  });
});
