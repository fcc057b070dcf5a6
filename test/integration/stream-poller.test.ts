import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTable,
  type Engine,
  startMoto,
  useLocalCredentials,
} from '../../infra/local/engine.js';
import {
  type DeadLetterEntry,
  memoryDeadLetter,
  type PollerLogger,
  type StreamPoller,
  startStreamPoller,
} from '../../infra/local/stream-poller.js';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { handler, labelOf, recording, recordingConsumer } from '../fixtures/recording-consumer.js';

let engine: Engine;
let client: DynamoDBClient;
let poller: StreamPoller | undefined;
const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
const logger: PollerLogger = {
  info: (message, attributes) => logs.push({ level: 'info', message, attributes }),
  warn: (message, attributes) => logs.push({ level: 'warn', message, attributes }),
  error: (message, attributes) => logs.push({ level: 'error', message, attributes }),
};

beforeAll(async () => {
  useLocalCredentials();
  engine = await startMoto();
  client = new DynamoDBClient({ endpoint: engine.endpoint });
});

afterAll(async () => {
  client?.destroy();
  await engine?.stop();
});

beforeEach(() => {
  recording.reset();
  logs.length = 0;
});

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await recording.settled();
});

/** Each test reads its own table's stream from the start. */
async function newTable(): Promise<string> {
  const tableName = `poller-${randomUUID()}`;
  await createTable(engine.endpoint, tableName);
  return tableName;
}

async function put(
  tableName: string,
  label: string,
  attributes: Record<string, AttributeValue> = {},
  pk = label,
): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: pk }, sk: { S: 'item' }, label: { S: label }, ...attributes },
    }),
  );
}

async function putAll(tableName: string, labels: readonly string[]): Promise<void> {
  for (const label of labels) await put(tableName, label);
}

async function startPoller(tableName: string, settings: Partial<StreamConsumerDefinition> = {}) {
  const deadLetter = memoryDeadLetter();
  poller = await startStreamPoller({
    endpoint: engine.endpoint,
    tableName,
    consumer: { ...recordingConsumer, ...settings },
    handler,
    deadLetter,
    logger,
    pollIntervalMs: 20,
    retryBackoffMs: 5,
    maxRetryBackoffMs: 20,
  });
  return { poller, deadLetter };
}

const deadLetteredLabels = (entries: readonly DeadLetterEntry[]) =>
  entries.map((entry) => entry.records.map(labelOf));

describe('startStreamPoller', () => {
  it('delivers records shaped as Lambda delivers them', async () => {
    // Prepare
    const tableName = await newTable();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const writtenAfter = Math.floor(Date.now() / 1000);
    await put(tableName, 'a', { blob: { B: new Uint8Array([1, 2, 3]) } });
    await put(tableName, 'a', { colour: { S: 'blue' } });
    await client.send(
      new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'a' }, sk: { S: 'item' } } }),
    );

    // Act
    const { poller } = await startPoller(tableName);
    await poller.idle();

    // Assess
    const keys = { pk: { S: 'a' }, sk: { S: 'item' } };
    const inserted = { ...keys, label: { S: 'a' }, blob: { B: 'AQID' } };
    const modified = { ...keys, label: { S: 'a' }, colour: { S: 'blue' } };
    const change = (eventName: string, images: Record<string, unknown>) => ({
      eventID: expect.any(String),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: keys,
        ...images,
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: Table?.LatestStreamArn,
    });
    expect(recording.invocations).toEqual([
      [
        change('INSERT', { NewImage: inserted }),
        change('MODIFY', { NewImage: modified, OldImage: inserted }),
        change('REMOVE', { OldImage: modified }),
      ],
    ]);
    const [first] = recording.invocations[0] ?? [];
    const createdAt = first?.dynamodb?.ApproximateCreationDateTime ?? 0;
    expect(Number.isInteger(createdAt)).toBe(true);
    expect(createdAt).toBeGreaterThanOrEqual(writtenAfter);
    expect(createdAt).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('drops the records the filter patterns reject, without delivering them', async () => {
    // Prepare
    const tableName = await newTable();
    const widget = { kind: { S: 'widget' } };
    const gadget = { kind: { S: 'gadget' } };
    await put(tableName, 'w1', widget);
    await put(tableName, 'g1', gadget);
    await put(tableName, 'w2', widget);
    await put(tableName, 'g2', gadget);
    await client.send(
      new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'w1' }, sk: { S: 'item' } } }),
    );

    // Act
    const { poller } = await startPoller(tableName, {
      filterPatterns: [{ dynamodb: { NewImage: { kind: { S: ['widget'] } } } }],
    });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['w1', 'w2']]);
  });

  it('delivers batches of at most batchSize records in stream order', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4', '5', '6', '7']);

    // Act
    const { poller } = await startPoller(tableName, { batchSize: 3 });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['1', '2', '3'], ['4', '5', '6'], ['7']]);
  });

  it('delivers records written after it started, and idle() waits for them', async () => {
    // Prepare
    const tableName = await newTable();
    const { poller } = await startPoller(tableName);
    await poller.idle();

    // Act
    await putAll(tableName, ['1', '2']);
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels.flat()).toEqual(['1', '2']);
  });

  it('retries a partially failed batch from the first failed record, not before it', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4', '5']);
    recording.failRecord('3', 1);

    // Act
    const { poller, deadLetter } = await startPoller(tableName, { batchSize: 5 });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(recording.processed).toEqual(['1', '2', '4', '5', '3', '4', '5']);
    expect(deadLetter.entries).toEqual([]);
  });

  it('retries the whole batch when the handler throws', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3']);
    recording.failBatchHolding('2', 1);

    // Act
    const { poller, deadLetter } = await startPoller(tableName, { batchSize: 3 });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([
      ['1', '2', '3'],
      ['1', '2', '3'],
    ]);
    expect(recording.processed).toEqual(['1', '2', '3']);
    expect(deadLetter.entries).toEqual([]);
  });

  it('retries the whole batch when the handler exceeds its timeout', async () => {
    // Prepare
    const tableName = await newTable();
    await put(tableName, '1');
    recording.delayNextInvocations(1_300);

    // Act
    const { poller, deadLetter } = await startPoller(tableName, { timeoutSeconds: 1 });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['1'], ['1']]);
    expect(deadLetter.entries).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        attributes: expect.objectContaining({ error: 'Task timed out after 1.00 seconds' }),
      }),
    );
  });

  it('dead-letters a poison record after the bounded retries and goes on with the next batches', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4']);
    recording.failRecord('2');

    // Act
    const { poller, deadLetter } = await startPoller(tableName, {
      batchSize: 2,
      retryAttempts: 2,
    });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['1', '2'], ['2'], ['2'], ['3', '4']]);
    expect(recording.processed).toEqual(['1', '3', '4']);
    expect(deadLetter.entries).toEqual([
      expect.objectContaining({
        consumer: 'recording',
        reason: 'RetryAttemptsExhausted',
        attempts: 3,
        error: expect.any(String),
      }),
    ]);
    expect(deadLetteredLabels(deadLetter.entries)).toEqual([['2']]);
  });

  it('without bisection, dead-letters the records behind a poison record in its batch, as Lambda does', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4', '5']);
    recording.failRecord('2');

    // Act
    const { poller, deadLetter } = await startPoller(tableName, {
      batchSize: 4,
      retryAttempts: 1,
    });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['1', '2', '3', '4'], ['2', '3', '4'], ['5']]);
    expect(deadLetteredLabels(deadLetter.entries)).toEqual([['2', '3', '4']]);
  });

  it('bisects a batch whose invocation throws until the poison record is alone', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4']);
    recording.failBatchHolding('3');

    // Act
    const { poller, deadLetter } = await startPoller(tableName, {
      batchSize: 4,
      retryAttempts: 1,
      bisectBatchOnError: true,
    });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([
      ['1', '2', '3', '4'],
      ['1', '2'],
      ['3', '4'],
      ['3'],
      ['3'],
      ['4'],
    ]);
    expect(recording.processed).toEqual(['1', '2', '4']);
    expect(deadLetteredLabels(deadLetter.entries)).toEqual([['3']]);
    expect(deadLetter.entries[0]).toMatchObject({ reason: 'RetryAttemptsExhausted', attempts: 4 });
  });

  it('bisects the failing part of a partially failed batch, sparing the records behind the poison', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2', '3', '4']);
    recording.failRecord('2');

    // Act
    const { poller, deadLetter } = await startPoller(tableName, {
      batchSize: 4,
      retryAttempts: 1,
      bisectBatchOnError: true,
    });
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([
      ['1', '2', '3', '4'],
      ['2', '3'],
      ['2'],
      ['2'],
      ['3'],
      ['4'],
    ]);
    expect(deadLetteredLabels(deadLetter.entries)).toEqual([['2']]);
  });

  it('dead-letters records older than maxRecordAgeSeconds without delivering them', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2']);
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    // Act
    const { poller, deadLetter } = await startPoller(tableName, { maxRecordAgeSeconds: 1 });
    await put(tableName, '3');
    await poller.idle();

    // Assess
    expect(recording.deliveredLabels).toEqual([['3']]);
    expect(deadLetteredLabels(deadLetter.entries).flat()).toEqual(['1', '2']);
    for (const entry of deadLetter.entries) {
      expect(entry).toMatchObject({ reason: 'RecordAgeExceeded', attempts: 0 });
    }
  });

  it('with a parallelization factor, keeps each item in order while items overtake each other', async () => {
    // Prepare
    const tableName = await newTable();
    const items = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'];
    const streamOrder = ['v1', 'v2', 'v3'].flatMap((version) =>
      items.map((item) => `${item}.${version}`),
    );
    for (const label of streamOrder) await put(tableName, label, {}, label.split('.')[0]);

    // Act
    const { poller } = await startPoller(tableName, { batchSize: 2, parallelizationFactor: 4 });
    await poller.idle();

    // Assess
    const delivered = recording.deliveredLabels.flat();
    expect([...delivered].sort()).toEqual([...streamOrder].sort());
    for (const item of items) {
      expect(delivered.filter((label) => label.startsWith(`${item}.`))).toEqual(
        ['v1', 'v2', 'v3'].map((version) => `${item}.${version}`),
      );
    }
    expect(delivered).not.toEqual(streamOrder);
  });

  it('with a parallelization factor, gives the records of one partition key one lane, as Lambda does', async () => {
    // Prepare: three partitions of ten items each, interleaved in the stream.
    const tableName = await newTable();
    for (let index = 0; index < 10; index++) {
      for (const partition of ['pa', 'pb', 'pc']) {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              pk: { S: partition },
              sk: { S: `item-${index}` },
              label: { S: `${partition}.${index}` },
            },
          }),
        );
      }
    }

    // Act
    const { poller } = await startPoller(tableName, { batchSize: 100, parallelizationFactor: 4 });
    await poller.idle();

    // Assess: each batch holds whole partitions, in stream order.
    const batches = recording.deliveredLabels;
    for (const partition of ['pa', 'pb', 'pc']) {
      const holding = batches.filter((batch) =>
        batch.some((label) => label.startsWith(`${partition}.`)),
      );
      expect(holding).toHaveLength(1);
      expect(holding[0]?.filter((label) => label.startsWith(`${partition}.`))).toEqual(
        Array.from({ length: 10 }, (_, index) => `${partition}.${index}`),
      );
    }
  });

  it('gathers a short batch for up to the batching window, and delivers a full one at once', async () => {
    // Prepare
    const tableName = await newTable();
    await putAll(tableName, ['1', '2']);

    // Act: two more records arrive while the first two wait in the window.
    const { poller } = await startPoller(tableName, { batchSize: 4, maxBatchingWindowSeconds: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await putAll(tableName, ['3', '4', '5']);
    await poller.idle();

    // Assess: one full batch without waiting out the window, then the one left over.
    expect(recording.deliveredLabels).toEqual([['1', '2', '3', '4'], ['5']]);
  });

  it('stops within a poll interval and leaves no timer behind', async () => {
    // Prepare
    const tableName = await newTable();
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout');
    const timersBefore = timers().length;
    const deadLetter = memoryDeadLetter();
    const started = await startStreamPoller({
      endpoint: engine.endpoint,
      tableName,
      consumer: recordingConsumer,
      handler,
      deadLetter,
      logger,
      pollIntervalMs: 5_000,
    });
    await put(tableName, '1');
    await started.idle();

    // Act
    const stopStartedAt = Date.now();
    await started.stop();
    const stopTookMs = Date.now() - stopStartedAt;

    // Assess
    expect(stopTookMs).toBeLessThan(1_000);
    expect(timers().length).toBeLessThanOrEqual(timersBefore);
    await expect(started.idle()).rejects.toThrow('stopped');
    expect(recording.deliveredLabels).toEqual([['1']]);
  });
});
