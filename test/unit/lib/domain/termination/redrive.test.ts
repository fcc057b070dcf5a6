import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CascadeJob } from '../../../../../lib/data/cascade-job.js';
import { type CustomerRecord, customerItem } from '../../../../../lib/data/customer.js';
import type { TerminationEffect } from '../../../../../lib/domain/termination/effects.js';
import { resumeCascade } from '../../../../../lib/domain/termination/redrive.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';
import { unitContext as ctx, now } from '../../../../fixtures/service-context.js';
import {
  cascadeJobKey,
  cascadeJob as job,
  cascadeJobItem as jobItem,
  terminatedShape,
} from '../../../../fixtures/termination.js';

const ddb = mockClient(DynamoDBDocumentClient);

const jobKey = cascadeJobKey();
const terminated = terminatedShape();
const terminatedHq = mainOffice('hq', { ...terminated, hierarchy: { branchCount: 20 } });

const storedCustomer = (record: CustomerRecord) =>
  ddb
    .on(GetCommand, { Key: { pk: `CUSTOMER#${record.id}`, sk: 'CUSTOMER' } })
    .resolves({ Item: customerItem(record) });
/** The job as the re-drive reads it, then as it reads it back after its write. */
const storedJob = (before: CascadeJob | undefined, after: CascadeJob) =>
  ddb
    .on(GetCommand, { Key: jobKey })
    .resolvesOnce({ Item: before && jobItem(before) })
    .resolves({ Item: jobItem(after) });
const jobUpdate = () => ddb.commandCalls(UpdateCommand)[0]?.args[0].input;

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
});

describe('resumeCascade', () => {
  it.each([
    ['an active main office', mainOffice('hq', { hierarchy: { branchCount: 2 } })],
    ['a terminated customer that is no main office', customer('hq', terminated)],
    ['a terminated branch', branchOf('hq', 'top', terminated)],
  ])('answers no_cascade for %s, reading nothing more', async (_label, record) => {
    storedCustomer(record);

    await expect(resumeCascade(ctx, 'hq')).resolves.toBe('no_cascade');
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers no_cascade for an absent customer, writing nothing', async () => {
    await expect(resumeCascade(ctx, 'hq')).resolves.toBe('no_cascade');
    expect(ddb.calls()).toHaveLength(1);
  });

  it('runs the effects again for any terminated customer, on its current item', async () => {
    const ran: string[] = [];
    const effect: TerminationEffect = async (_ctx, record) => {
      ran.push(`${record.id}@${record.version}`);
    };
    storedCustomer(branchOf('b1', 'hq', { ...terminated, version: 6 }));

    await expect(resumeCascade(ctx, 'b1', [effect])).resolves.toBe('no_cascade');
    expect(ran).toEqual(['b1@6']);
  });

  it('nudges a running job with resumedAt, keeping its cursor and pass, and answers it as written', async () => {
    const running = job({ cursor: JSON.stringify({ pk: 'x' }), pass: 3, found: 12 });
    storedCustomer(terminatedHq);
    storedJob(running, { ...running, resumedAt: now });

    await expect(resumeCascade(ctx, 'hq')).resolves.toEqual({ ...running, resumedAt: now });

    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(jobUpdate()?.Key).toEqual(jobKey);
    expect(namesIn(jobUpdate())).toContain('resumedAt');
    // Conditioned on the cursor and pass it read: a chunk handing over meanwhile wins.
    expect(jobUpdate()?.ConditionExpression).toBeDefined();
    expect(valuesIn(jobUpdate())).toEqual(expect.arrayContaining([now, running.cursor, 3]));
    expect(valuesIn(jobUpdate())).not.toContain('START');
  });

  it('restarts a done job with a new pass from the start', async () => {
    const done = job({
      status: 'done',
      cursor: JSON.stringify({ pk: 'x' }),
      pass: 2,
      found: 20,
      terminatedCount: 18,
    });
    const restarted = job({ pass: 3, terminatedCount: 18 });
    storedCustomer(terminatedHq);
    storedJob(done, restarted);

    await expect(resumeCascade(ctx, 'hq')).resolves.toEqual(restarted);

    expect(valuesIn(jobUpdate())).toEqual(
      expect.arrayContaining(['running', 'START', 3, 0, done.cursor, 2]),
    );
  });

  it('starts the job of a terminated main office that has none', async () => {
    storedCustomer(terminatedHq);
    storedJob(undefined, job());

    await expect(resumeCascade(ctx, 'hq')).resolves.toEqual(job());

    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toEqual(jobItem(job()));
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 0);
  });
});
