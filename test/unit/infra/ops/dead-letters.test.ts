import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redriveQueue } from '../../../../infra/ops/dead-letters.js';
import type { StreamConsumerDefinition } from '../../../../lib/streams/consumer-definition.js';

const sqs = mockClient(SQSClient);
const streams = mockClient(DynamoDBStreamsClient);
const streamArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-12-01T00:00:00.000';
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';

const consumer: StreamConsumerDefinition = {
  name: 'charges-only',
  entry: 'unused.ts',
  filterPatterns: [{ dynamodb: { NewImage: { entityType: { S: ['charge'] } } } }],
  batchSize: 2,
  retryAttempts: 1,
  maxRecordAgeSeconds: 60,
  bisectBatchOnError: false,
  parallelizationFactor: 1,
  timeoutSeconds: 10,
};

/** A stream record as GetRecords answers it. */
const streamRecord = (sequence: number, entityType = 'charge') => ({
  eventID: `e${sequence}`,
  eventName: 'INSERT' as const,
  dynamodb: {
    ApproximateCreationDateTime: new Date('2026-12-01T10:00:00Z'),
    Keys: { pk: { S: `P${sequence}` }, sk: { S: 'S' } },
    NewImage: { pk: { S: `P${sequence}` }, sk: { S: 'S' }, entityType: { S: entityType } },
    SequenceNumber: String(100 + sequence),
    SizeBytes: 10,
    StreamViewType: 'NEW_AND_OLD_IMAGES' as const,
  },
});

/** Lambda's on-failure message for a batch of the stream's records 101 to 104. */
const onFailure = {
  version: '1.0',
  requestContext: { condition: 'RetryAttemptsExhausted' },
  DDBStreamBatchInfo: {
    shardId: 'shardId-1',
    startSequenceNumber: '101',
    endSequenceNumber: '104',
    approximateArrivalOfFirstRecord: '2026-12-01T10:00:00Z',
    approximateArrivalOfLastRecord: '2026-12-01T10:00:01Z',
    batchSize: 4,
    streamArn,
  },
};

beforeEach(() => {
  sqs.reset();
  streams.reset();
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({
      Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(onFailure) }],
    })
    .resolves({ Messages: [] });
  streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
  // The batch (101–104, one of them no charge) and a record after it that must not be handed over.
  streams.on(GetRecordsCommand, { ShardIterator: 'it-1' }).resolves({
    Records: [streamRecord(1), streamRecord(2, 'customer'), streamRecord(3)],
    NextShardIterator: 'it-2',
  });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'it-2' })
    .resolves({ Records: [streamRecord(4), streamRecord(5)], NextShardIterator: 'it-3' });
});

describe('redriveQueue', () => {
  it('reads each message’s batch back from the stream, hands the consumer’s records to its handler in batches, and deletes the message', async () => {
    const events: DynamoDBStreamEvent[] = [];
    const results = await redriveQueue(
      { sqs: sqs as never, streams: streams as never },
      queueUrl,
      consumer,
      async (event) => {
        events.push(event);
      },
    );
    expect(results).toEqual([{ handled: 3 }]);
    expect(events.map((event) => event.Records.map((r) => r.dynamodb?.SequenceNumber))).toEqual([
      ['101', '103'],
      ['104'],
    ]);
    expect(events[0]?.Records[0]).toMatchObject({
      eventSourceARN: streamArn,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-12-01T10:00:00Z') / 1000,
        NewImage: { entityType: { S: 'charge' } },
      },
    });
    expect(streams).toHaveReceivedCommandWith(GetShardIteratorCommand, {
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: '101',
      ShardId: 'shardId-1',
    });
    expect(sqs).toHaveReceivedCommandWith(DeleteMessageCommand, { ReceiptHandle: 'r1' });
  });

  it('keeps the message when the handler fails a record, and says where it stopped', async () => {
    const results = await redriveQueue(
      { sqs: sqs as never, streams: streams as never },
      queueUrl,
      consumer,
      async (event) =>
        event.Records.some((r) => r.dynamodb?.SequenceNumber === '104')
          ? { batchItemFailures: [{ itemIdentifier: '104' }] }
          : undefined,
    );
    expect(results).toEqual([{ handled: 2, failure: expect.stringContaining('104') }]);
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it('keeps the message when its batch left the stream, and one that names no batch', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(onFailure) },
          { MessageId: 'm2', ReceiptHandle: 'r2', Body: '{"hello":1}' },
        ],
      })
      .resolves({ Messages: [] });
    streams.on(GetShardIteratorCommand).rejects(new Error('TrimmedDataAccessException'));
    const results = await redriveQueue(
      { sqs: sqs as never, streams: streams as never },
      queueUrl,
      consumer,
      async () => undefined,
    );
    expect(results).toEqual([
      { handled: 0, failure: expect.stringContaining('TrimmedDataAccessException') },
      { handled: 0, failure: expect.stringContaining('names no stream batch') },
    ]);
    expect(sqs).not.toHaveReceivedCommand(DeleteMessageCommand);
  });
});
