import { readFile, writeFile } from 'node:fs/promises';
import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { compileEventFilter } from '../local/event-filter.js';
import {
  type DeadLetterEntry,
  firstFailure,
  invocationContext,
  type StreamHandler,
  type StreamLocation,
  toLambdaRecord,
} from '../local/stream-poller.js';

/** How far a re-drive got: the records handled, and why it stopped short, if it did. */
export interface RedriveResult {
  readonly handled: number;
  readonly failure?: string;
}

const locationOf = (streamArn: string): StreamLocation => {
  const [, , , region = 'us-east-1', accountId = '000000000000'] = streamArn.split(':');
  return { streamArn, region, accountId };
};

const sequenceOf = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';

/**
 * Runs a consumer's handler over records it gave up on, as its event source mapping
 * would have: its filter patterns pick the records, batches of its batch size go to
 * its handler in order, and the first failed record (a throw or a partial batch
 * response) stops the re-drive there. Every consumer's handler is idempotent, so a
 * record handled before is handled again without effect.
 */
export async function redriveRecords(
  consumer: StreamConsumerDefinition,
  handler: StreamHandler,
  records: readonly DynamoDBRecord[],
  streamArn: string,
): Promise<RedriveResult> {
  const accepts = compileEventFilter(consumer.filterPatterns);
  const matching = records.filter((record) => accepts(record));
  for (let start = 0; start < matching.length; start += consumer.batchSize) {
    const batch = matching.slice(start, start + consumer.batchSize);
    const deadline = Date.now() + consumer.timeoutSeconds * 1000;
    try {
      const response = await handler(
        { Records: batch },
        invocationContext(consumer.name, locationOf(streamArn), deadline),
      );
      const failure = firstFailure(
        response,
        batch.map((record) => ({ sequenceNumber: sequenceOf(record) })),
      );
      if (failure) return { handled: start + failure.index, failure: failure.error };
    } catch (error) {
      return { handled: start, failure: error instanceof Error ? error.message : String(error) };
    }
  }
  return { handled: matching.length };
}

/**
 * Re-drives the local runtime's dead-letter file (one `DeadLetterEntry` per line):
 * the consumer's entries that re-drive completely are removed from the file, the
 * others stay, as do other consumers' entries.
 */
export async function redriveFile(
  path: string,
  consumer: StreamConsumerDefinition,
  handler: StreamHandler,
): Promise<RedriveResult[]> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const kept: string[] = [];
  const results: RedriveResult[] = [];
  for (const line of lines) {
    const entry = JSON.parse(line) as DeadLetterEntry;
    if (entry.consumer !== consumer.name) {
      kept.push(line);
      continue;
    }
    const result = await redriveRecords(consumer, handler, entry.records, entry.streamArn);
    results.push(result);
    if (result.failure !== undefined) kept.push(line);
  }
  await writeFile(path, kept.map((line) => `${line}\n`).join(''));
  return results;
}

/** The part of Lambda's on-failure message for a stream batch that says where the batch was. */
const onFailureMessage = z.object({
  DDBStreamBatchInfo: z.object({
    shardId: z.string(),
    startSequenceNumber: z.string(),
    endSequenceNumber: z.string(),
    streamArn: z.string(),
    batchSize: z.number().int().positive(),
  }),
});
type StreamBatchInfo = z.infer<typeof onFailureMessage>['DDBStreamBatchInfo'];

/**
 * Reads a dead-lettered batch back from the stream: from its first sequence number to
 * its last. The stream keeps records 24 hours; an older batch cannot be read (the
 * README says how to re-drive by the items instead).
 */
export async function readStreamBatch(
  streams: DynamoDBStreamsClient,
  batch: StreamBatchInfo,
): Promise<DynamoDBRecord[]> {
  const location = locationOf(batch.streamArn);
  const last = BigInt(batch.endSequenceNumber);
  const records: DynamoDBRecord[] = [];
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: batch.streamArn,
      ShardId: batch.shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: batch.startSequenceNumber,
    }),
  );
  while (iterator) {
    const page = await streams.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
    );
    for (const record of page.Records ?? []) {
      const { record: lambdaRecord, sequenceNumber } = toLambdaRecord(record, location);
      if (BigInt(sequenceNumber) > last) return records;
      records.push(lambdaRecord);
    }
    // An open shard's iterator never ends: an empty page means the batch is all read.
    if (!page.Records?.length) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

/**
 * Re-drives a consumer's dead-letter queue in the cloud: each message names a stream
 * batch, which is read back from the stream and handed to the consumer's handler; a
 * message is deleted once its batch re-drove completely, and stays (visible again
 * after the receive's visibility timeout) otherwise.
 */
export async function redriveQueue(
  clients: { readonly sqs: SQSClient; readonly streams: DynamoDBStreamsClient },
  queueUrl: string,
  consumer: StreamConsumerDefinition,
  handler: StreamHandler,
): Promise<RedriveResult[]> {
  const results: RedriveResult[] = [];
  const seen = new Set<string>();
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: consumer.timeoutSeconds * 2,
      }),
    );
    const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
    if (fresh.length === 0) return results;
    for (const message of fresh) {
      seen.add(message.MessageId ?? '');
      const parsed = onFailureMessage.safeParse(JSON.parse(message.Body ?? 'null'));
      if (!parsed.success) {
        results.push({ handled: 0, failure: `message ${message.MessageId} names no stream batch` });
        continue;
      }
      const batch = parsed.data.DDBStreamBatchInfo;
      const result = await readStreamBatch(clients.streams, batch).then(
        (records) => redriveRecords(consumer, handler, records, batch.streamArn),
        (error: Error) => ({
          handled: 0,
          failure: `the batch could not be read: ${error.message}`,
        }),
      );
      results.push(result);
      if (result.failure === undefined) {
        await clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }
}
