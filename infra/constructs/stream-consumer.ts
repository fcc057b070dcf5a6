import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { grantTableData, ServiceFunction } from './api-function.js';
import { didProviderEnvironment } from './did-providers.js';

export interface StreamConsumerProps {
  readonly definition: StreamConsumerDefinition;
  readonly table: ITableV2;
}

/**
 * One consumer of the table's stream: its function, the event source mapping with the
 * definition's filter, batching and retry settings, the queue that receives the records
 * it gave up on, and an alarm as soon as that queue holds one.
 */
export class StreamConsumer extends Construct {
  readonly handler: ServiceFunction;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, { definition, table }: StreamConsumerProps) {
    super(scope, id);

    this.handler = new ServiceFunction(this, 'Handler', {
      entry: definition.entry,
      table,
      timeout: Duration.seconds(definition.timeoutSeconds),
      description: `Stream consumer ${definition.name}`,
      environment: definition.callsDidProviders ? didProviderEnvironment(scope) : undefined,
    });
    // Record handlers check the current item and write back (§5, §8, §9).
    grantTableData(table, this.handler.function, 'readWrite');
    table.grantStreamRead(this.handler.function);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: `Dead-letter queue of ${definition.name}: npm run dead-letters:redrive -- --consumer ${definition.name} --queue-url <this URL>`,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the stream event source mapping; ' +
        'its messages are inspected and replayed by an operator, never consumed by a worker.',
    });

    this.handler.function.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: definition.batchSize,
        ...(definition.maxBatchingWindowSeconds !== undefined && {
          maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
        }),
        reportBatchItemFailures: true,
        bisectBatchOnError: definition.bisectBatchOnError,
        retryAttempts: definition.retryAttempts,
        maxRecordAge: Duration.seconds(definition.maxRecordAgeSeconds),
        parallelizationFactor: definition.parallelizationFactor,
        // The definition holds Lambda filter patterns already; the local poller reads the same.
        // No pattern means every record: CloudFormation refuses an empty filter list.
        filters:
          definition.filterPatterns.length > 0
            ? definition.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) }))
            : undefined,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );

    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Stream consumer ${definition.name} gave up on records; see its dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
