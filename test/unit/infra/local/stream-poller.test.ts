import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeadLetterEntry,
  fileDeadLetter,
  memoryDeadLetter,
  type PollerLogger,
  type StreamHandler,
  type StreamPoller,
  startStreamPoller,
} from '../../../../infra/local/stream-poller.js';
import {
  handler,
  labelOf,
  recording,
  recordingConsumer,
} from '../../../fixtures/recording-consumer.js';

// Engine behaviour moto cannot produce (failures, closing shards), played by mocks.
const dynamodb = mockClient(DynamoDBClient);
const streams = mockClient(DynamoDBStreamsClient);
const streamArn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/2026-01-01T00:00:00.000';
const logs: { level: string; message: string }[] = [];
const logger: PollerLogger = {
  info: (message) => logs.push({ level: 'info', message }),
  warn: (message) => logs.push({ level: 'warn', message }),
  error: (message) => logs.push({ level: 'error', message }),
};
let poller: StreamPoller | undefined;

const streamRecord = (label: string, sequenceNumber: string): _Record => ({
  eventID: `event-${label}`,
  eventName: 'INSERT',
  eventVersion: '1.0',
  eventSource: 'aws:dynamodb',
  awsRegion: 'eu-west-1',
  dynamodb: {
    ApproximateCreationDateTime: new Date(),
    Keys: { pk: { S: label } },
    NewImage: { pk: { S: label }, label: { S: label } },
    SequenceNumber: sequenceNumber,
    SizeBytes: 10,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});

async function startPoller(pollerHandler: StreamHandler = handler) {
  const deadLetter = memoryDeadLetter();
  poller = await startStreamPoller({
    endpoint: 'http://127.0.0.1:1',
    tableName: 't',
    consumer: recordingConsumer,
    handler: pollerHandler,
    deadLetter,
    logger,
    pollIntervalMs: 5,
    retryBackoffMs: 1,
  });
  return { poller, deadLetter };
}

beforeEach(() => {
  dynamodb.reset();
  streams.reset();
  recording.reset();
  logs.length = 0;
  dynamodb.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: streamArn } });
});

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

describe('startStreamPoller', () => {
  it('refuses a table without a stream', async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).resolves({ Table: {} });

    // Act / Assess
    await expect(startPoller()).rejects.toThrow('Table t has no stream');
  });

  it('goes on after the last record read when GetRecords fails, logging the outage once', async () => {
    // Prepare
    streams
      .on(DescribeStreamCommand)
      .resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
    streams.on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' }).resolves({
      ShardIterator: 'from-start',
    });
    streams
      .on(GetShardIteratorCommand, {
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: '2',
      })
      .resolves({ ShardIterator: 'after-2' });
    streams.on(GetRecordsCommand, { ShardIterator: 'from-start' }).resolves({
      Records: [streamRecord('a', '1'), streamRecord('b', '2')],
      NextShardIterator: 'next',
    });
    streams.on(GetRecordsCommand, { ShardIterator: 'next' }).rejects(new Error('engine down'));
    streams
      .on(GetRecordsCommand, { ShardIterator: 'after-2' })
      .rejectsOnce(new Error('engine still down'))
      .resolves({ Records: [streamRecord('c', '3')], NextShardIterator: 'end' });
    streams.on(GetRecordsCommand, { ShardIterator: 'end' }).resolves({
      Records: [],
      NextShardIterator: 'end',
    });

    // Act
    const { poller } = await startPoller();
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels.flat()).toEqual(['a', 'b', 'c']);
    expect(streams).toHaveReceivedCommandTimes(GetShardIteratorCommand, 3);
    expect(streams).toHaveReceivedNthCommandWith(GetShardIteratorCommand, 3, {
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: '2',
    });
    expect(logs.filter((log) => log.level === 'warn')).toEqual([
      { level: 'warn', message: 'reading the stream failed; retrying' },
    ]);
    expect(logs.filter((log) => log.message === 'reading the stream works again')).toHaveLength(1);
  });

  it('reads a child shard only once its closed parent has been processed', async () => {
    // Prepare
    const parent = { ShardId: 'parent' };
    const child = { ShardId: 'child', ParentShardId: 'parent' };
    streams
      .on(DescribeStreamCommand)
      .resolvesOnce({ StreamDescription: { Shards: [parent] } })
      .resolves({ StreamDescription: { Shards: [child, parent] } });
    streams.on(GetShardIteratorCommand, { ShardId: 'parent' }).resolves({ ShardIterator: 'p' });
    streams.on(GetShardIteratorCommand, { ShardId: 'child' }).resolves({ ShardIterator: 'c' });
    // No next iterator: the parent is closed and read to its end.
    streams
      .on(GetRecordsCommand, { ShardIterator: 'p' })
      .resolves({ Records: [streamRecord('p1', '1'), streamRecord('p2', '2')] });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'c' })
      .resolves({ Records: [streamRecord('c1', '3')], NextShardIterator: 'c-end' });
    streams.on(GetRecordsCommand, { ShardIterator: 'c-end' }).resolves({
      Records: [],
      NextShardIterator: 'c-end',
    });
    const childReadsSeenByBatches: number[] = [];
    const observingHandler: StreamHandler = async (event, context) => {
      childReadsSeenByBatches.push(
        streams.commandCalls(GetShardIteratorCommand, { ShardId: 'child' }).length,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      return handler(event, context);
    };

    // Act
    const { poller } = await startPoller(observingHandler);
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['p1', 'p2'], ['c1']]);
    expect(childReadsSeenByBatches).toEqual([0, 1]);
    expect(streams.commandCalls(DescribeStreamCommand).length).toBeGreaterThanOrEqual(2);
  });

  describe('batch item failures', () => {
    const oneShardOf = (...records: _Record[]) => {
      streams
        .on(DescribeStreamCommand)
        .resolves({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
      streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'start' });
      streams
        .on(GetRecordsCommand, { ShardIterator: 'start' })
        .resolves({ Records: records, NextShardIterator: 'end' });
      streams.on(GetRecordsCommand, { ShardIterator: 'end' }).resolves({
        Records: [],
        NextShardIterator: 'end',
      });
    };
    const answering = (...responses: unknown[]) => {
      const batches: string[][] = [];
      const answeringHandler = async (event: DynamoDBStreamEvent) => {
        batches.push(event.Records.map(labelOf));
        return responses.shift() as never;
      };
      return { batches, answeringHandler };
    };

    it.each([
      ['nothing', undefined],
      ['an empty list', { batchItemFailures: [] }],
      ['a null list', { batchItemFailures: null }],
      ['an object without the list', { status: 'done' }],
    ])('takes %s as success', async (_name, response) => {
      // Prepare
      oneShardOf(streamRecord('a', '1'), streamRecord('b', '2'));
      const { batches, answeringHandler } = answering(response);

      // Act
      const { poller, deadLetter } = await startPoller(answeringHandler);
      await poller.idle();

      // Assess
      expect(batches).toEqual([['a', 'b']]);
      expect(deadLetter.entries).toEqual([]);
    });

    it('retries from the lowest sequence number reported', async () => {
      // Prepare
      oneShardOf(streamRecord('a', '1'), streamRecord('b', '2'), streamRecord('c', '3'));
      const { batches, answeringHandler } = answering({
        batchItemFailures: [{ itemIdentifier: '3' }, { itemIdentifier: '2' }],
      });

      // Act
      const { poller } = await startPoller(answeringHandler);
      await poller.idle();

      // Assess
      expect(batches).toEqual([
        ['a', 'b', 'c'],
        ['b', 'c'],
      ]);
    });

    it.each([
      ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
      ['a missing itemIdentifier', { batchItemFailures: [{ id: '2' }] }],
      ['an itemIdentifier not in the batch', { batchItemFailures: [{ itemIdentifier: '9' }] }],
      ['a list that is not a list', { batchItemFailures: '2' }],
    ])('retries the whole batch on %s', async (_name, response) => {
      // Prepare
      oneShardOf(streamRecord('a', '1'), streamRecord('b', '2'));
      const { batches, answeringHandler } = answering(response);

      // Act
      const { poller } = await startPoller(answeringHandler);
      await poller.idle();

      // Assess
      expect(batches).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
    });
  });
});

describe('fileDeadLetter', () => {
  it('appends one JSON line per entry, creating the directory', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'dead-letter-'));
    const path = join(directory, 'nested', 'dead-letter.jsonl');
    const destination = fileDeadLetter(path);
    const entry = (consumer: string): DeadLetterEntry => ({
      consumer,
      failedAt: '2026-01-01T00:00:00.000Z',
      reason: 'RetryAttemptsExhausted',
      attempts: 3,
      error: 'boom',
      streamArn,
      shardId: 'shard-1',
      records: [{ eventID: 'e', dynamodb: { SequenceNumber: '1' } }],
    });

    // Act
    await Promise.all(['one', 'two', 'three'].map((name) => destination.send(entry(name))));

    // Assess
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      entry('one'),
      entry('two'),
      entry('three'),
    ]);
    await rm(directory, { recursive: true });
  });
});
