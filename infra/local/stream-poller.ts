import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type AttributeValue as StreamAttributeValue,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
} from 'aws-lambda';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { compileEventFilter } from './event-filter.js';

/**
 * The local stand-in for the Lambda event source mapping of a DynamoDB stream:
 * it reads the engine's DynamoDB Streams API and calls a consumer's handler with
 * the same batch semantics.
 *
 * - Records the consumer's filter patterns reject are dropped, never delivered.
 * - Each shard is read from TRIM_HORIZON in order; a child shard only once its
 *   parent has been read and processed to the end.
 * - A batch holds up to `batchSize` records of one shard, in order. With a
 *   parallelization factor N, records go to N lanes by item key (partition and
 *   sort key), each lane delivering its batches one at a time: each item's
 *   records keep their order while other items' batches overtake them, and a
 *   lane retrying a batch does not hold the others up. Invocations themselves
 *   run one at a time (see InvocationQueue).
 * - A failure starts at the first record the handler reports in
 *   `batchItemFailures` (the records before it are done) or, when the handler
 *   throws, times out or answers an invalid itemIdentifier, at the first record.
 *   The failing records are then bisected (with `bisectBatchOnError` and more
 *   than one record; splitting costs no retry, as in Lambda), else retried
 *   (at most `retryAttempts` times), else sent to the dead-letter destination,
 *   after which the lane goes on with the records behind them.
 * - Records older than `maxRecordAgeSeconds` when a delivery is due are sent to
 *   the dead-letter destination instead.
 */

/**
 * A consumer's Lambda handler, as its entry module exports it. Its answer is
 * read as Lambda reads it: a DynamoDBBatchResponse, anything else meaning success.
 */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

export interface PollerLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly consumer: StreamConsumerDefinition;
  readonly handler: StreamHandler;
  readonly deadLetter: DeadLetterDestination;
  /** Defaults to the console. */
  readonly logger?: PollerLogger;
  /** Pause after a read that found nothing new; Lambda polls a shard 4 times a second. */
  readonly pollIntervalMs?: number;
  /** Pause before the first retry of a failed batch; it doubles for each further retry… */
  readonly retryBackoffMs?: number;
  /** …up to this. */
  readonly maxRetryBackoffMs?: number;
}

export interface StreamPoller {
  /**
   * Resolves once every record written before the call has been dealt with: for
   * every shard a read that started after the call, and after the last batch
   * settled (a handler may write records itself), found nothing new (or the shard
   * is closed and read to its end), and no record is waiting, being delivered,
   * retried or dead-lettered. Rejects if the poller is stopped first.
   */
  idle(): Promise<void>;
  /** Batches delivered so far (successful or not): lets a caller see whether work happened. */
  readonly batchesSettled: number;
  /**
   * Stops reading and waits for the deliveries in progress (each bounded by the
   * consumer's timeout); records not yet delivered are abandoned.
   */
  stop(): Promise<void>;
}

/**
 * What the local stream poller gives up on, the counterpart of the message the
 * event source mapping sends to its on-failure queue in the cloud. Locally it
 * carries the records themselves (the cloud message only points at them), so a
 * local re-drive can replay them.
 */
export interface DeadLetterEntry {
  readonly consumer: string;
  /** ISO-8601 time the records were given up on. */
  readonly failedAt: string;
  /** Named as Lambda names the condition in its on-failure message. */
  readonly reason: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  /** Times these records were delivered to the handler (0 when they aged out unseen). */
  readonly attempts: number;
  /** The handler's last error, when it failed. */
  readonly error?: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** The records exactly as the handler received (or would have received) them. */
  readonly records: readonly DynamoDBRecord[];
}

export interface DeadLetterDestination {
  send(entry: DeadLetterEntry): Promise<void>;
}

/** Appends one JSON line per entry; the file and its directory are created on first use. */
export function fileDeadLetter(path: string): DeadLetterDestination {
  // Appends are chained so that concurrent lanes never interleave partial lines.
  let previous: Promise<unknown> = Promise.resolve();
  return {
    send(entry) {
      const written = previous.then(async () => {
        await mkdir(dirname(path), { recursive: true });
        await appendFile(path, `${JSON.stringify(entry)}\n`);
      });
      previous = written.catch(() => undefined);
      return written;
    },
  };
}

export interface MemoryDeadLetter extends DeadLetterDestination {
  readonly entries: DeadLetterEntry[];
}

/** Keeps the entries in memory, for tests. */
export function memoryDeadLetter(): MemoryDeadLetter {
  const entries: DeadLetterEntry[] = [];
  return {
    entries,
    send: async (entry) => {
      entries.push(entry);
    },
  };
}

const GET_RECORDS_LIMIT = 1000;

export interface BufferedRecord {
  readonly record: DynamoDBRecord;
  readonly sequenceNumber: string;
  readonly createdAtMs: number;
  deliveries: number;
}

export interface Failure {
  /** Index of the first failed record in the delivered batch. */
  readonly index: number;
  readonly error: string;
}

export interface StreamLocation {
  readonly streamArn: string;
  readonly region: string;
  readonly accountId: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Sleeps, waking early (without error) when the signal aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  delay(ms, undefined, { signal }).catch(() => undefined);

// The SDK decodes binary attributes; Lambda delivers them base64-encoded, as on the wire.
function toLambdaAttribute(value: StreamAttributeValue): LambdaAttributeValue {
  if (value.B) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS) return { BS: value.BS.map((binary) => Buffer.from(binary).toString('base64')) };
  if (value.L) return { L: value.L.map(toLambdaAttribute) };
  if (value.M) return { M: toLambdaImage(value.M) };
  return value as LambdaAttributeValue;
}

const toLambdaImage = (image: Record<string, StreamAttributeValue>) =>
  Object.fromEntries(
    Object.entries(image).map(([name, value]) => [name, toLambdaAttribute(value)]),
  );

/** The record as Lambda hands it to the function, from what GetRecords returned. */
export function toLambdaRecord(record: StreamRecord, location: StreamLocation): BufferedRecord {
  const change = record.dynamodb ?? {};
  const createdAtMs = change.ApproximateCreationDateTime?.getTime() ?? Date.now();
  const sequenceNumber = change.SequenceNumber ?? '';
  return {
    record: {
      eventID: record.eventID,
      eventName: record.eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: location.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(createdAtMs / 1000),
        Keys: toLambdaImage(change.Keys ?? {}),
        ...(change.NewImage && { NewImage: toLambdaImage(change.NewImage) }),
        ...(change.OldImage && { OldImage: toLambdaImage(change.OldImage) }),
        SequenceNumber: sequenceNumber,
        SizeBytes: change.SizeBytes,
        StreamViewType: change.StreamViewType,
      },
      eventSourceARN: location.streamArn,
    },
    sequenceNumber,
    createdAtMs,
    deliveries: 0,
  };
}

/** The Lambda context a handler is invoked with, for the function named after its consumer. */
export function invocationContext(
  name: string,
  { region, accountId }: Pick<StreamLocation, 'region' | 'accountId'>,
  deadline: number,
): Context {
  const notSupported = () => {
    throw new Error('Callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}

/**
 * Where the handler's answer says the batch failed, read as Lambda reads a partial
 * batch response; undefined when it succeeded.
 */
export function firstFailure(
  response: unknown,
  batch: readonly { readonly sequenceNumber: string }[],
): Failure | undefined {
  if (!isObject(response) || response.batchItemFailures == null) return undefined;
  const failures = response.batchItemFailures;
  if (!Array.isArray(failures)) {
    return { index: 0, error: 'batchItemFailures is not a list: the whole batch failed' };
  }
  let first = batch.length;
  for (const failure of failures) {
    const identifier = isObject(failure) ? failure.itemIdentifier : undefined;
    const index = batch.findIndex((record) => record.sequenceNumber === identifier);
    // Lambda fails the whole batch on an empty, missing or unknown itemIdentifier.
    if (index < 0) {
      return {
        index: 0,
        error: `invalid itemIdentifier ${JSON.stringify(identifier)}: the whole batch failed`,
      };
    }
    first = Math.min(first, index);
  }
  if (first === batch.length) return undefined;
  return {
    index: first,
    error: `the handler reported ${failures.length} failed record(s), the first ${batch[first]?.sequenceNumber}`,
  };
}

/**
 * Runs one invocation at a time. Lambda runs concurrent batches in separate
 * execution environments; here they share one module instance, and a handler's
 * module-level state (a Powertools BatchProcessor keeps the batch it is
 * processing) would mix concurrent batches up. Lanes still interleave their
 * batches, so items keep their own order while others overtake them.
 */
class InvocationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(invocation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(invocation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Delivers one lane's batches: invocation, partial failures, bisection, retries, dead letters. */
class BatchDelivery {
  constructor(
    private readonly options: StreamPollerOptions & { readonly logger: PollerLogger },
    private readonly location: StreamLocation,
    private readonly shardId: string,
    private readonly invocations: InvocationQueue,
    private readonly signal: AbortSignal,
  ) {}

  async deliver(batch: BufferedRecord[]): Promise<void> {
    const { consumer } = this.options;
    const pending = [{ records: batch, retries: 0 }];
    for (let next = pending.shift(); next && !this.signal.aborted; next = pending.shift()) {
      const records = await this.dropAged(next.records);
      if (records.length === 0) continue;
      const failure = await this.invoke(records);
      if (!failure) continue;
      const failing = records.slice(failure.index);
      if (consumer.bisectBatchOnError && failing.length > 1) {
        const middle = Math.ceil(failing.length / 2);
        pending.unshift(
          { records: failing.slice(0, middle), retries: next.retries },
          { records: failing.slice(middle), retries: next.retries },
        );
      } else if (next.retries < consumer.retryAttempts) {
        await sleep(this.backoffMs(next.retries), this.signal);
        pending.unshift({ records: failing, retries: next.retries + 1 });
      } else {
        await this.deadLetter(failing, 'RetryAttemptsExhausted', failure.error);
      }
    }
  }

  private backoffMs(retries: number): number {
    const { retryBackoffMs = 50, maxRetryBackoffMs = 200 } = this.options;
    return Math.min(retryBackoffMs * 2 ** retries, maxRetryBackoffMs);
  }

  private async dropAged(records: BufferedRecord[]): Promise<BufferedRecord[]> {
    const oldestAllowed = Date.now() - this.options.consumer.maxRecordAgeSeconds * 1000;
    const aged = records.filter((record) => record.createdAtMs < oldestAllowed);
    if (aged.length === 0) return records;
    await this.deadLetter(aged, 'RecordAgeExceeded');
    return records.filter((record) => record.createdAtMs >= oldestAllowed);
  }

  private async invoke(records: BufferedRecord[]): Promise<Failure | undefined> {
    const { consumer, handler, logger } = this.options;
    for (const record of records) record.deliveries += 1;
    // A fresh copy for every delivery, as Lambda serialises each event anew.
    const event: DynamoDBStreamEvent = {
      Records: records.map(({ record }) => structuredClone(record)),
    };
    const timeoutMs = consumer.timeoutSeconds * 1000;
    let failure: Failure | undefined;
    try {
      const response = await this.invocations.run(() => {
        const context = this.context(Date.now() + timeoutMs);
        return withTimeout(
          Promise.resolve().then(() => handler(event, context)),
          timeoutMs,
          `Task timed out after ${consumer.timeoutSeconds.toFixed(2)} seconds`,
        );
      });
      failure = firstFailure(response, records);
    } catch (error) {
      failure = { index: 0, error: errorMessage(error) };
    }
    if (failure) {
      logger.warn('stream batch failed', {
        consumer: consumer.name,
        records: records.length,
        failedFrom: records[failure.index]?.sequenceNumber,
        error: failure.error,
      });
    }
    return failure;
  }

  private context(deadline: number): Context {
    return invocationContext(this.options.consumer.name, this.location, deadline);
  }

  /** Never loses the records: a failing destination is retried until it takes them or the poller stops. */
  private async deadLetter(
    records: BufferedRecord[],
    reason: DeadLetterEntry['reason'],
    error?: string,
  ): Promise<void> {
    const { consumer, deadLetter, logger } = this.options;
    const entry: DeadLetterEntry = {
      consumer: consumer.name,
      failedAt: new Date().toISOString(),
      reason,
      attempts: Math.max(...records.map((record) => record.deliveries)),
      ...(error !== undefined && { error }),
      streamArn: this.location.streamArn,
      shardId: this.shardId,
      records: records.map(({ record }) => record),
    };
    for (let attempt = 0; !this.signal.aborted; attempt += 1) {
      try {
        await deadLetter.send(entry);
        logger.error('stream records sent to the dead-letter destination', {
          consumer: consumer.name,
          reason,
          sequenceNumbers: records.map((record) => record.sequenceNumber),
          error,
        });
        return;
      } catch (sendError) {
        logger.error('the dead-letter destination failed; retrying', {
          consumer: consumer.name,
          error: errorMessage(sendError),
        });
        await sleep(this.backoffMs(attempt), this.signal);
      }
    }
  }
}

/** Records of the items that hash to it, delivered one batch at a time in stream order. */
class Lane {
  private readonly queue: BufferedRecord[] = [];
  private inFlight = 0;
  private draining: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly batchSize: number,
    /** How long a batch short of batchSize waits for more records (Lambda's batching window). */
    private readonly batchingWindowMs: number,
    private readonly delivery: BatchDelivery,
    private readonly signal: AbortSignal,
    private readonly onBatchSettled: () => void,
  ) {}

  /** Records waiting or being delivered. */
  get size(): number {
    return this.queue.length + this.inFlight;
  }

  /** Queues the records a read found for this lane (all at once, so they can share batches). */
  push(records: readonly BufferedRecord[]): void {
    this.queue.push(...records);
    if (this.busy) return;
    this.busy = true;
    this.draining = this.drain();
  }

  settled(): Promise<void> {
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.signal.aborted) {
      await this.gather();
      const batch = this.queue.splice(0, this.batchSize);
      this.inFlight = batch.length;
      await this.delivery.deliver(batch);
      this.inFlight = 0;
      this.onBatchSettled();
    }
    // Cleared in the same turn as the empty-queue check, so a push never finds a lane stuck busy.
    this.busy = false;
  }

  /** Waits, within the batching window, until a full batch is queued. */
  private async gather(): Promise<void> {
    const due = Date.now() + this.batchingWindowMs;
    while (this.queue.length < this.batchSize && Date.now() < due && !this.signal.aborted) {
      await sleep(Math.min(50, due - Date.now()), this.signal);
    }
  }
}

/** Reading position and lanes of one shard. */
class ShardReader {
  private iterator: string | undefined;
  private lastSequenceNumber: string | undefined;
  /** The shard is closed and every record of it has been read. */
  closed = false;
  readsStarted = 0;
  /** Number of the last read that found nothing new. */
  caughtUpAtRead = 0;
  private readonly lanes: Lane[];

  constructor(
    readonly shardId: string,
    readonly parentShardId: string | undefined,
    private readonly partitionKeyAttribute: string,
    private readonly streams: DynamoDBStreamsClient,
    private readonly location: StreamLocation,
    private readonly accepts: (record: DynamoDBRecord) => boolean,
    private readonly consumer: StreamConsumerDefinition,
    makeLane: (shardId: string) => Lane,
    private readonly signal: AbortSignal,
  ) {
    this.lanes = Array.from({ length: Math.max(1, consumer.parallelizationFactor) }, () =>
      makeLane(shardId),
    );
  }

  get buffered(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.size, 0);
  }

  /** Read to the end and delivered everything: its children may start. */
  get finished(): boolean {
    return this.closed && this.buffered === 0;
  }

  /** Reading pauses while the lanes hold enough for a batch each, as Lambda waits for its invocations. */
  get wantsRecords(): boolean {
    return (
      !this.closed &&
      this.buffered < this.consumer.batchSize * Math.max(1, this.consumer.parallelizationFactor)
    );
  }

  settled(): Promise<unknown> {
    return Promise.all(this.lanes.map((lane) => lane.settled()));
  }

  /** One GetRecords call; returns the number of records it found. */
  async read(): Promise<number> {
    const readNumber = ++this.readsStarted;
    try {
      this.iterator ??= await this.acquireIterator();
      const response = await this.streams.send(
        new GetRecordsCommand({ ShardIterator: this.iterator, Limit: GET_RECORDS_LIMIT }),
        { abortSignal: this.signal },
      );
      const records = response.Records ?? [];
      this.iterator = response.NextShardIterator;
      // No next iterator: the shard is closed (it split or rolled over) and read to its end.
      this.closed = response.NextShardIterator === undefined;
      const byLane = new Map<Lane, BufferedRecord[]>();
      for (const record of records) {
        const buffered = toLambdaRecord(record, this.location);
        this.lastSequenceNumber = buffered.sequenceNumber;
        if (!this.accepts(buffered.record)) continue;
        const lane = this.laneOf(buffered.record);
        const laneRecords = byLane.get(lane);
        if (laneRecords) laneRecords.push(buffered);
        else byLane.set(lane, [buffered]);
      }
      for (const [lane, laneRecords] of byLane) lane.push(laneRecords);
      if (records.length === 0) this.caughtUpAtRead = readNumber;
      return records.length;
    } catch (error) {
      // Start again from the last record read, whether the iterator expired or the engine failed.
      this.iterator = undefined;
      throw error;
    }
  }

  private async acquireIterator(): Promise<string | undefined> {
    const { ShardIterator } = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.location.streamArn,
        ShardId: this.shardId,
        ...(this.lastSequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.lastSequenceNumber }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
      { abortSignal: this.signal },
    );
    return ShardIterator;
  }

  /**
   * Lambda keeps order per partition key when it runs a shard's batches side by side,
   * so records of one partition (a customer's charges, say) share one lane.
   */
  private laneOf(record: DynamoDBRecord): Lane {
    if (this.lanes.length === 1) return this.lanes[0] as Lane;
    const partitionKey = JSON.stringify(
      record.dynamodb?.Keys?.[this.partitionKeyAttribute] ?? null,
    );
    const hash = createHash('sha1').update(partitionKey).digest().readUInt32BE(0);
    return this.lanes[hash % this.lanes.length] as Lane;
  }
}

interface IdleWaiter {
  /** readsStarted of each shard when idle() was called. */
  readonly readsAtCall: ReadonlyMap<string, number>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

class Poller implements StreamPoller {
  private readonly readers = new Map<string, ShardReader>();
  private readonly invocations = new InvocationQueue();
  private readonly stopController = new AbortController();
  private shardListOutdated = true;
  private readFailing = false;
  private wakeRequested = false;
  private wakeController = new AbortController();
  private idleWaiters: IdleWaiter[] = [];
  /** Some shard's reading paused because its lanes hold enough for their batches. */
  private waitingForRoom = false;
  batchesSettled = 0;
  /** readsStarted of each shard when one of its batches last settled. */
  private readonly readsAtLastSettle = new Map<string, number>();
  private readonly running: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: StreamPollerOptions & { readonly logger: PollerLogger },
    private readonly streams: DynamoDBStreamsClient,
    private readonly location: StreamLocation,
    private readonly accepts: (record: DynamoDBRecord) => boolean,
  ) {
    this.running = this.run();
  }

  idle(): Promise<void> {
    if (this.stopController.signal.aborted) {
      return Promise.reject(new Error('The stream poller is stopped'));
    }
    const readsAtCall = new Map(
      [...this.readers].map(([shardId, reader]) => [shardId, reader.readsStarted]),
    );
    return new Promise((resolve, reject) => {
      this.idleWaiters.push({ readsAtCall, resolve, reject });
      this.wake();
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopController.abort();
      this.wake();
      await this.running;
      await Promise.all([...this.readers.values()].map((reader) => reader.settled()));
      this.streams.destroy();
      for (const waiter of this.idleWaiters) {
        waiter.reject(new Error('The stream poller stopped before it was idle'));
      }
      this.idleWaiters = [];
    })();
    return this.stopping;
  }

  private get signal(): AbortSignal {
    return this.stopController.signal;
  }

  private async run(): Promise<void> {
    const { logger, consumer } = this.options;
    while (!this.signal.aborted) {
      let morePending = false;
      try {
        if (this.shardListOutdated) await this.refreshShards();
        for (const reader of this.readableShards()) {
          // A full page means more records wait behind it: that shard is read again at once.
          if ((await reader.read()) >= GET_RECORDS_LIMIT) morePending = true;
          if (reader.closed) this.shardListOutdated = true;
        }
        this.waitingForRoom = [...this.readers.values()].some(
          (reader) => !reader.closed && !reader.wantsRecords,
        );
        if (this.readFailing) {
          logger.info('reading the stream works again', { consumer: consumer.name });
          this.readFailing = false;
        }
      } catch (error) {
        if (this.signal.aborted) break;
        // Logged once per outage, not on every poll.
        if (!this.readFailing) {
          logger.warn('reading the stream failed; retrying', {
            consumer: consumer.name,
            error: errorMessage(error),
          });
        }
        this.readFailing = true;
      }
      this.settleIdleWaiters();
      // A caught-up shard is polled once per interval, as Lambda polls each shard four
      // times a second: polling again after every small page cost the engine more than
      // the handlers' own work (four consumers read every record).
      if (!morePending) await this.pause();
    }
  }

  private readableShards(): ShardReader[] {
    return [...this.readers.values()].filter((reader) => {
      const parent = reader.parentShardId ? this.readers.get(reader.parentShardId) : undefined;
      return reader.wantsRecords && (!parent || parent.finished);
    });
  }

  private async refreshShards(): Promise<void> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    let partitionKeyAttribute = '';
    do {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({
          StreamArn: this.location.streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
        { abortSignal: this.signal },
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      partitionKeyAttribute =
        StreamDescription?.KeySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName ?? '';
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    for (const { ShardId, ParentShardId } of shards) {
      if (!ShardId || this.readers.has(ShardId)) continue;
      this.readers.set(
        ShardId,
        new ShardReader(
          ShardId,
          ParentShardId,
          partitionKeyAttribute,
          this.streams,
          this.location,
          this.accepts,
          this.options.consumer,
          (shardId) => this.lane(shardId),
          this.signal,
        ),
      );
    }
    // A stream always has an open shard; until the children of a closed one show, look again.
    this.shardListOutdated = [...this.readers.values()].every((reader) => reader.closed);
  }

  private lane(shardId: string): Lane {
    const delivery = new BatchDelivery(
      this.options,
      this.location,
      shardId,
      this.invocations,
      this.signal,
    );
    const { batchSize, maxBatchingWindowSeconds = 0 } = this.options.consumer;
    return new Lane(batchSize, maxBatchingWindowSeconds * 1000, delivery, this.signal, () => {
      this.batchesSettled += 1;
      // Records the handler wrote are only seen by reads that start from now on.
      this.readsAtLastSettle.set(shardId, this.readers.get(shardId)?.readsStarted ?? 0);
      this.settleIdleWaiters();
      // Read again at once only for whom it matters: a reader held back for room, or an idle() waiting.
      if (this.waitingForRoom || this.idleWaiters.length > 0) this.wake();
    });
  }

  /** Waits a poll interval, cut short by stop(), idle() or a lane making room. */
  private async pause(): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return;
    }
    this.wakeController = new AbortController();
    await sleep(this.options.pollIntervalMs ?? 250, this.wakeController.signal);
    this.wakeRequested = false;
  }

  private wake(): void {
    this.wakeRequested = true;
    this.wakeController.abort();
  }

  private settleIdleWaiters(): void {
    if (this.idleWaiters.length === 0) return;
    this.idleWaiters = this.idleWaiters.filter((waiter) => {
      if (!this.isIdleSince(waiter.readsAtCall)) return true;
      waiter.resolve();
      return false;
    });
  }

  private isIdleSince(readsAtCall: ReadonlyMap<string, number>): boolean {
    if (this.shardListOutdated) return false;
    return [...this.readers].every(
      ([shardId, reader]) =>
        reader.buffered === 0 &&
        (reader.closed ||
          reader.caughtUpAtRead >
            Math.max(readsAtCall.get(shardId) ?? 0, this.readsAtLastSettle.get(shardId) ?? 0)),
    );
  }
}

function locate(streamArn: string): StreamLocation {
  // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
  const [, , , region, accountId] = streamArn.split(':');
  if (!region || !accountId) throw new Error(`Unexpected stream ARN ${streamArn}`);
  return { streamArn, region, accountId };
}

/**
 * Starts polling the table's stream for one consumer. Rejects when the filter
 * patterns are invalid or the table has no stream; once started, engine errors
 * are logged and retried, never thrown.
 */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const accepts = compileEventFilter(options.consumer.filterPatterns);
  const dynamodb = new DynamoDBClient({ endpoint: options.endpoint });
  let streamArn: string | undefined;
  try {
    const { Table } = await dynamodb.send(
      new DescribeTableCommand({ TableName: options.tableName }),
    );
    streamArn = Table?.LatestStreamArn;
  } finally {
    dynamodb.destroy();
  }
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);
  const logger = options.logger ?? console;
  logger.info('stream poller started', { consumer: options.consumer.name, streamArn });
  return new Poller(
    { ...options, logger },
    new DynamoDBStreamsClient({ endpoint: options.endpoint }),
    locate(streamArn),
    accepts,
  );
}
