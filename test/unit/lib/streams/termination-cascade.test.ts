import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileEventFilter } from '../../../../infra/local/event-filter.js';
import type { CascadeJob } from '../../../../lib/data/cascade-job.js';
import { customerItem } from '../../../../lib/data/customer.js';
import {
  handleTerminationRecord,
  terminationCascadeConsumer,
} from '../../../../lib/streams/termination-cascade.js';
import { branchOf, mainOffice } from '../../../fixtures/customer-records.js';
import { unitContext as ctx, now } from '../../../fixtures/service-context.js';
import { modifyRecord, streamRecord } from '../../../fixtures/stream-records.js';
import {
  cascadeJob,
  cascadeJobItem,
  cascadeJobKey,
  terminatedShape as terminated,
} from '../../../fixtures/termination.js';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
});

const modify = modifyRecord;

const jobItem = (fields: Partial<CascadeJob> = {}) => cascadeJobItem(cascadeJob(fields));
const terminatedByHq = { reason: 'main_office_terminated', mainOfficeId: 'hq' } as const;
const hqActive = mainOffice('hq', { hierarchy: { branchCount: 2 } });
const hqTerminated = mainOffice('hq', { ...terminated(), hierarchy: { branchCount: 2 } });
const hqTerminating = modify(customerItem(hqActive), customerItem(hqTerminated));

describe('handleTerminationRecord', () => {
  it('hands a customer’s image to the termination of a customer', async () => {
    ddb
      .on(GetCommand, { Key: { pk: 'CUSTOMER#hq', sk: 'CUSTOMER' } })
      .resolves({ Item: customerItem(hqTerminated) });

    await handleTerminationRecord(ctx, hqTerminating);

    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject(cascadeJobKey());
  });

  it('hands a job’s image to the next chunk of its cascade', async () => {
    ddb.on(GetCommand, { Key: cascadeJobKey() }).resolves({ Item: jobItem({ status: 'done' }) });

    await handleTerminationRecord(
      ctx,
      streamRecord('MODIFY', { newImage: jobItem({ resumedAt: now }) }),
    );

    // The job is done: the record is stale, and the one read says so.
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: cascadeJobKey(),
      ConsistentRead: true,
    });
  });

  it('does nothing for a record without a new image or of another entity', async () => {
    await handleTerminationRecord(
      ctx,
      streamRecord('REMOVE', { oldImage: customerItem(hqTerminated) }),
    );
    await handleTerminationRecord(
      ctx,
      streamRecord('INSERT', {
        newImage: { pk: 'IDEMPOTENCY#x', sk: 'IDEMPOTENCY', entityType: 'idempotencyRecord' },
      }),
    );

    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('the filter patterns of the termination consumer', () => {
  const passes = compileEventFilter(terminationCascadeConsumer.filterPatterns);

  it.each([
    ['a main office becoming terminated', hqTerminating],
    [
      'a branch terminated by its main office',
      modify(
        customerItem(branchOf('b1', 'hq')),
        customerItem(branchOf('b1', 'hq', terminated(terminatedByHq))),
      ),
    ],
    ['a new running job', streamRecord('INSERT', { newImage: jobItem() })],
    ['a job handed over to its next chunk', modify(jobItem(), jobItem({ cursor: '{"pk":"x"}' }))],
  ])('accepts %s', (_label, record) => {
    expect(passes(record)).toBe(true);
  });

  it.each([
    [
      'a customer that stays active',
      modify(customerItem(hqActive), customerItem({ ...hqActive, name: 'Renamed', version: 5 })),
    ],
    [
      'a customer already terminated',
      modify(customerItem(hqTerminated), customerItem({ ...hqTerminated, version: 6 })),
    ],
    ['a new customer', streamRecord('INSERT', { newImage: customerItem(hqActive) })],
    ['a job that is done', modify(jobItem(), jobItem({ status: 'done' }))],
  ])('rejects %s', (_label, record) => {
    expect(passes(record)).toBe(false);
  });
});
