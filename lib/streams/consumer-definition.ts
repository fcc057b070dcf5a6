/**
 * One stream consumer: its handler and the event source mapping settings around
 * it. CDK turns this into a DynamoEventSource (FilterCriteria, batch size,
 * retries, bisect, on-failure queue) and the local runtime's poller applies the
 * same settings to the engine's stream, so a consumer behaves alike in both.
 */
export interface StreamConsumerDefinition {
  /** Stable name: the Lambda's id in CDK and the poller's name locally. */
  readonly name: string;
  /** Handler module relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /**
   * Lambda event filter patterns (the JSON each FilterCriteria pattern holds),
   * matched against the stream record, e.g.
   * `{ dynamodb: { NewImage: { entityType: { S: ['customer'] } } } }`.
   * A record passes when any pattern matches.
   */
  readonly filterPatterns: readonly Record<string, unknown>[];
  readonly batchSize: number;
  /**
   * How long Lambda gathers records before invoking with a batch short of batchSize
   * (0 to 300 s; none by default): fewer, larger batches at the price of that latency.
   */
  readonly maxBatchingWindowSeconds?: number;
  /** Retries of a failing batch before its records go to the dead-letter queue. */
  readonly retryAttempts: number;
  /** Records older than this are sent to the dead-letter queue instead of processed. */
  readonly maxRecordAgeSeconds: number;
  /** Split a failing batch in two and retry each half (isolates a poison record). */
  readonly bisectBatchOnError: boolean;
  /** Concurrent batches per shard (1 to 10); ordering is kept per partition key. */
  readonly parallelizationFactor: number;
  /** The handler calls an external DID provider: its function gets the provider's configuration. */
  readonly callsDidProviders?: true;
  /** Function timeout; a batch that takes longer fails and is retried. */
  readonly timeoutSeconds: number;
}

export const defineStreamConsumer = (consumer: StreamConsumerDefinition) => consumer;
