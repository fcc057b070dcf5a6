import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StreamConsumer } from './stream-consumer.js';

export interface OperationsProps {
  readonly api: HttpApi;
  readonly table: ITableV2;
  readonly streamConsumers: Readonly<Record<string, StreamConsumer>>;
}

const fiveMinutes = Duration.minutes(5);

/**
 * What an operator watches: one SNS topic every alarm notifies (subscribe an address
 * with `-c alarmEmail=ops@example.com`, or subscribe to the topic the stack outputs),
 * alarms on the API's 5xx and latency, the functions' errors, throttles and duration,
 * each consumer's iterator age and dead letters, and the table's throttling; and one
 * dashboard with the same metrics.
 *
 * Lambda's errors, throttles and duration are alarmed on the account's figures (no
 * function dimension): one alarm each instead of three per function, which keeps the
 * stack far from CloudFormation's 500 resources; the dashboard breaks them down.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, { api, table, streamConsumers }: OperationsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'Customer Additional info alarms',
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    const email: unknown = this.node.tryGetContext('alarmEmail');
    if (typeof email === 'string' && email.length > 0) {
      this.topic.addSubscription(new EmailSubscription(email));
    }
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'Subscribe to this topic to receive every alarm',
    });

    const lambda = (metricName: string, statistic: string) =>
      new Metric({ namespace: 'AWS/Lambda', metricName, statistic, period: fiveMinutes });
    const tableMetric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: table.tableName },
        statistic: 'Sum',
        period: fiveMinutes,
      });

    const apiErrors = api.metricServerError({ statistic: 'Sum', period: fiveMinutes });
    const apiLatency = api.metricLatency({ statistic: 'p99', period: fiveMinutes });
    this.alarm('Api5xx', apiErrors, 0, 'The API answered 5xx (none is expected: SPEC §1)');
    this.alarm('ApiLatencyP99', apiLatency, 3_000, 'The API’s p99 latency is over 3 s');
    this.alarm('LambdaErrors', lambda('Errors', 'Sum'), 0, 'A function failed');
    this.alarm('LambdaThrottles', lambda('Throttles', 'Sum'), 0, 'A function was throttled');
    // The API functions time out at 10 s (28 s for the DID provider routes).
    this.alarm(
      'LambdaDurationP99',
      lambda('Duration', 'p99'),
      8_000,
      'Functions near their timeout',
    );
    const readThrottles = tableMetric('ReadThrottleEvents');
    const writeThrottles = tableMetric('WriteThrottleEvents');
    this.alarm('TableReadThrottles', readThrottles, 0, 'The table throttled reads');
    this.alarm('TableWriteThrottles', writeThrottles, 0, 'The table throttled writes');

    const iteratorAges: IMetric[] = [];
    const deadLetters: IMetric[] = [];
    for (const [name, consumer] of Object.entries(streamConsumers)) {
      const age = consumer.handler.function.metric('IteratorAge', {
        statistic: 'Maximum',
        period: fiveMinutes,
      });
      iteratorAges.push(age.with({ label: name }));
      // A minute behind is a consumer that fails or cannot keep up.
      this.alarm(`${pascal(name)}IteratorAge`, age, 60_000, `Stream consumer ${name} is behind`);
      consumer.deadLetterAlarm.addAlarmAction(new SnsAction(this.topic));
      deadLetters.push(
        consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: fiveMinutes,
          label: name,
        }),
      );
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: 'CustomerAdditionalInfo',
      widgets: [
        [
          new GraphWidget({ title: 'API 5xx', left: [apiErrors] }),
          new GraphWidget({ title: 'API latency p99 (ms)', left: [apiLatency] }),
          new GraphWidget({
            title: 'API requests',
            left: [api.metricCount({ statistic: 'Sum', period: fiveMinutes })],
          }),
        ],
        [
          new GraphWidget({
            title: 'Lambda errors and throttles (account)',
            left: [lambda('Errors', 'Sum'), lambda('Throttles', 'Sum')],
          }),
          new GraphWidget({ title: 'Lambda duration p99 (ms)', left: [lambda('Duration', 'p99')] }),
          new GraphWidget({
            title: 'Lambda concurrency',
            left: [lambda('ConcurrentExecutions', 'Maximum')],
          }),
        ],
        [
          new GraphWidget({ title: 'Stream consumers: iterator age (ms)', left: iteratorAges }),
          new GraphWidget({ title: 'Stream consumers: dead letters', left: deadLetters }),
          new GraphWidget({
            title: 'Table throttles and capacity',
            left: [readThrottles, writeThrottles],
            right: [
              tableMetric('ConsumedWriteCapacityUnits'),
              tableMetric('ConsumedReadCapacityUnits'),
            ],
          }),
        ],
      ],
    });
  }

  private alarm(id: string, metric: IMetric, threshold: number, description: string): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

const pascal = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
