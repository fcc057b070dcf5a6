import { type CfnElement, Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { grantTableData, ServiceFunction } from './api-function.js';

/**
 * §9's monthly close: an EventBridge Scheduler schedule at 13:00 UTC on each month's
 * first day (the month before has then ended at UTC−12 too) invoking a function that
 * starts the same job `POST /billing/close-period` starts; the period-close stream
 * consumer does the work in chunks.
 */
export class MonthlyClose extends Construct {
  readonly handler: ServiceFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, { table }: { readonly table: ITableV2 }) {
    super(scope, id);
    this.handler = new ServiceFunction(this, 'Handler', {
      entry: 'functions/scheduled/close-period.ts',
      table,
      timeout: Duration.seconds(30),
      description: 'Starts the close of the month that ended',
    });
    grantTableData(table, this.handler.function, 'readWrite');
    const invoker = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Close the billing period that ended (§9)',
      schedule: ScheduleExpression.cron({
        minute: '0',
        hour: '13',
        day: '1',
        timeZone: TimeZone.ETC_UTC,
      }),
      target: new LambdaInvoke(this.handler.function, {
        role: invoker,
        retryAttempts: 10,
        maxEventAge: Duration.hours(12),
      }),
    });
    // The grant the target adds lives in the role's default policy.
    const functionId = Stack.of(this).getLogicalId(
      this.handler.function.node.defaultChild as CfnElement,
    );
    Validations.of(invoker.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        'The target grants lambda:InvokeFunction on this one function and its versions (ARN:*); nothing else.',
    });
  }
}
