import { App, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json' with { type: 'json' };
import type { ServiceFunction } from '../../infra/constructs/api-function.js';
import { StatefulStack } from '../../infra/stacks/stateful-stack.js';
import { StatelessStack } from '../../infra/stacks/stateless-stack.js';
import { tableDefinition } from '../../lib/data/table-definition.js';
import { routeList } from '../../lib/http/routes.js';
import { defineStreamConsumer } from '../../lib/streams/consumer-definition.js';
import { streamConsumers } from '../../lib/streams/consumers.js';

const jwtIssuer = 'https://issuer.test.example/';

const testConsumer = defineStreamConsumer({
  name: 'test-consumer',
  // Bundling is skipped below, so any existing handler module stands in for the real one.
  entry: 'functions/api/health.ts',
  filterPatterns: [
    { eventName: ['MODIFY'], dynamodb: { NewImage: { entityType: { S: ['customer'] } } } },
    { eventName: ['REMOVE'] },
  ],
  batchSize: 25,
  retryAttempts: 4,
  maxRecordAgeSeconds: 3600,
  bisectBatchOnError: true,
  parallelizationFactor: 2,
  timeoutSeconds: 45,
});

/** A consumer without patterns receives every record of the stream. */
const unfilteredConsumer = defineStreamConsumer({
  ...testConsumer,
  name: 'unfiltered-consumer',
  filterPatterns: [],
});

const testConsumers = [testConsumer, unfilteredConsumer];

function buildApp(context: Record<string, unknown> = {}) {
  const app = new App({
    context: {
      ...cdkJson.context,
      // An empty list makes NodejsFunction skip esbuild: the tests read templates, not code.
      'aws:cdk:bundling-stacks': [],
      jwtIssuer,
      jwtAudience: 'customer-api,customer-console',
      ...context,
    },
  });
  const stateful = new StatefulStack(app, 'Stateful');
  const stateless = new StatelessStack(app, 'Stateless', {
    table: stateful.table,
    routes: routeList,
    streamConsumers: testConsumers,
  });
  return { app, stateful, stateless };
}

const { app, stateful, stateless } = buildApp();
const statefulTemplate = Template.fromStack(stateful);
const statelessTemplate = Template.fromStack(stateless);

type Statement = { Action: string | string[]; Resource: unknown };

/** Every IAM statement attached to the function's role. */
function statementsOf(serviceFunction: ServiceFunction): Statement[] {
  const roleId = stateless.getLogicalId(serviceFunction.role.node.defaultChild as CfnElement);
  const policies = statelessTemplate.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

const actionsOf = (serviceFunction: ServiceFunction): string[] =>
  statementsOf(serviceFunction).flatMap((statement) => [statement.Action].flat());

function apiFunctionOf(operationId: string): ServiceFunction {
  const apiFunction = stateless.apiFunctions[operationId];
  if (!apiFunction) throw new Error(`no function for ${operationId}`);
  return apiFunction;
}

describe('stateful stack', () => {
  it('builds the table from the table definition', () => {
    statefulTemplate.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    statefulTemplate.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: tableDefinition.partitionKey, AttributeType: 'S' },
        { AttributeName: tableDefinition.sortKey, AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: {
        AttributeName: tableDefinition.timeToLiveAttribute,
        Enabled: true,
      },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
  });

  it('keeps the table when the stack is deleted or the table replaced', () => {
    statefulTemplate.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('outputs the table name', () => {
    statefulTemplate.hasOutput('TableName', {
      Value: { Ref: stateful.getLogicalId(stateful.table.node.defaultChild as CfnElement) },
    });
  });
});

describe('stateless stack: HTTP API', () => {
  it('validates tokens with a JWT authorizer whose issuer and audience come from context', () => {
    statelessTemplate.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: jwtIssuer, Audience: ['customer-api', 'customer-console'] },
    });
  });

  it('refuses to synthesize without an https issuer in context', () => {
    expect(() => buildApp({ jwtIssuer: undefined })).toThrow(/jwtIssuer/);
    expect(() => buildApp({ jwtIssuer: 'http://issuer.test.example/' })).toThrow(/jwtIssuer/);
  });

  it('has one route per row of the routes table, JWT-protected unless public', () => {
    statelessTemplate.resourceCountIs('AWS::ApiGatewayV2::Route', routeList.length);
    const authorizers = statelessTemplate.findResources('AWS::ApiGatewayV2::Authorizer');
    const [authorizerId] = Object.keys(authorizers);
    for (const route of routeList) {
      const routeKey = `${route.method} ${route.path}`;
      statelessTemplate.hasResourceProperties(
        'AWS::ApiGatewayV2::Route',
        route.auth === 'public'
          ? { RouteKey: routeKey, AuthorizationType: 'NONE', AuthorizerId: Match.absent() }
          : { RouteKey: routeKey, AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } },
      );
    }
  });

  it('logs access on the throttled default stage', () => {
    statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
      DefaultRouteSettings: {
        ThrottlingRateLimit: Match.anyValue(),
        ThrottlingBurstLimit: Match.anyValue(),
      },
    });
  });

  it('outputs the API URL', () => {
    statelessTemplate.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

describe('stateless stack: functions', () => {
  it('schedules the monthly close at 13:00 UTC on the first, when the month has ended everywhere', () => {
    const closeId = stateless.getLogicalId(
      stateless.monthlyClose.handler.function.node.defaultChild as CfnElement,
    );
    statelessTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 13 1 * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [closeId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 10 },
      },
    });
  });

  it('runs one function per route, per consumer and the monthly close on Node.js 22, arm64', () => {
    const functions = statelessTemplate.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(routeList.length + testConsumers.length + 1);
    for (const { Properties } of Object.values(functions)) {
      expect(Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Environment: {
          Variables: {
            TABLE_NAME: expect.anything(),
            POWERTOOLS_SERVICE_NAME: 'customer-additional-info',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
    }
  });

  it('gives API functions a 10 s timeout (28 s where they call a DID provider or do bulk work) and consumers the timeout of their definition', () => {
    const long = new Set(['listDidOffers', 'assignDids', 'importDidNumbers']);
    for (const route of routeList) {
      statelessTemplate.hasResourceProperties('AWS::Lambda::Function', {
        Description: `${route.method} ${route.path}`,
        Timeout: long.has(route.operationId) ? 28 : 10,
      });
    }
    statelessTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: `Stream consumer ${testConsumer.name}`,
      Timeout: testConsumer.timeoutSeconds,
    });
  });

  it('keeps every log group for a bounded time', () => {
    const logGroups = statelessTemplate.findResources('AWS::Logs::LogGroup');
    // The access logs' and the monthly close's beside one per route and consumer.
    expect(Object.keys(logGroups)).toHaveLength(routeList.length + testConsumers.length + 2);
    for (const { Properties } of Object.values(logGroups)) {
      expect(Properties.RetentionInDays).toBe(30);
    }
  });

  const tokenRoutes = routeList.filter(({ auth }) => auth !== 'public');

  it('lets GET functions read the table and its indexes by name but never write', () => {
    for (const route of tokenRoutes.filter(({ method }) => method === 'GET')) {
      const statements = statementsOf(apiFunctionOf(route.operationId));
      const actions = statements.flatMap((statement) => [statement.Action].flat());
      const policyText = JSON.stringify(statements);

      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
        expect(actions).not.toContain(`dynamodb:${write}`);
      }
      expect(policyText).not.toContain('/index/*');
      for (const index of tableDefinition.globalIndexes) {
        expect(policyText).toContain(`/index/${index.name}`);
      }
    }
  });

  it('lets functions of state-changing routes write the table', () => {
    for (const route of tokenRoutes.filter(({ method }) => method !== 'GET')) {
      expect(actionsOf(apiFunctionOf(route.operationId))).toEqual(
        expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem']),
      );
    }
  });

  it('gives public functions no table access at all', () => {
    for (const route of routeList.filter(({ auth }) => auth === 'public')) {
      const actions = actionsOf(apiFunctionOf(route.operationId));
      expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
    }
  });
});

describe('stateless stack: stream consumers', () => {
  const consumer = stateless.streamConsumers[testConsumer.name];
  if (!consumer) throw new Error('the test consumer was not built');
  const queueId = stateless.getLogicalId(consumer.deadLetterQueue.node.defaultChild as CfnElement);

  it('maps the table stream to the consumer with the settings of its definition', () => {
    statelessTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', testConsumers.length);
    statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.anyValue(),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: testConsumer.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: testConsumer.retryAttempts,
      MaximumRecordAgeInSeconds: testConsumer.maxRecordAgeSeconds,
      ParallelizationFactor: testConsumer.parallelizationFactor,
      FilterCriteria: {
        Filters: testConsumer.filterPatterns.map((pattern) => ({
          Pattern: JSON.stringify(pattern),
        })),
      },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('passes every record to a consumer without filter patterns', () => {
    const unfiltered = stateless.streamConsumers[unfilteredConsumer.name];
    if (!unfiltered) throw new Error('the unfiltered consumer was not built');
    const functionId = stateless.getLogicalId(
      unfiltered.handler.function.node.defaultChild as CfnElement,
    );
    statelessTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId },
      FilterCriteria: Match.absent(),
    });
  });

  it('sends given-up records to an encrypted, TLS-only queue that keeps them 14 days', () => {
    statelessTemplate.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    statelessTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('alarms as soon as the dead-letter queue holds a message', () => {
    statelessTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('lets the consumer read the stream, use the table and send to its queue', () => {
    expect(actionsOf(consumer.handler)).toEqual(
      expect.arrayContaining([
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:DescribeStream',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'sqs:SendMessage',
      ]),
    );
  });
});

describe('the DID provider configuration', () => {
  const variablesOf = (template: Template, description: string) => {
    const [found] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
    );
    return found?.Properties.Environment.Variables as Record<string, unknown>;
  };

  it('gives no function a DIDWW configuration unless the context names the key’s secret', () => {
    for (const route of routeList) {
      const variables = variablesOf(statelessTemplate, `${route.method} ${route.path}`);
      expect(variables).not.toHaveProperty('DIDWW_API_KEY');
      expect(variables).not.toHaveProperty('DIDWW_API_URL');
    }
  });

  it('configures exactly the functions that call the provider, the key by a dynamic reference', () => {
    const configured = buildApp({ didwwApiKeySecret: 'prod/didww-api-key' });
    const template = Template.fromStack(configured.stateless);
    for (const route of routeList) {
      const variables = variablesOf(template, `${route.method} ${route.path}`);
      if (route.callsDidProviders) {
        expect(variables.DIDWW_API_URL).toBe('https://sandbox-api.didww.com/v3');
        expect(JSON.stringify(variables.DIDWW_API_KEY)).toContain(
          '{{resolve:secretsmanager:prod/didww-api-key:SecretString:::}}',
        );
      } else {
        expect(variables, route.operationId).not.toHaveProperty('DIDWW_API_KEY');
      }
    }
  });

  it('refuses a DIDWW URL that is not https and /v3', () => {
    expect(() =>
      buildApp({ didwwApiKeySecret: 's', didwwApiUrl: 'http://api.didww.com/v3' }),
    ).toThrow(/didwwApiUrl/);
  });
});

describe('the real stream consumers', () => {
  it('give each consumer, the DID release and the invoice aggregation among them, its own function, mapping and dead-letter queue', () => {
    const real = new App({
      context: {
        ...cdkJson.context,
        'aws:cdk:bundling-stacks': [],
        jwtIssuer,
        jwtAudience: 'customer-api',
        didwwApiKeySecret: 'prod/didww-api-key',
      },
    });
    const table = new StatefulStack(real, 'RealStateful').table;
    const stack = new StatelessStack(real, 'RealStateless', {
      table,
      routes: routeList,
      streamConsumers,
    });
    const template = Template.fromStack(stack);
    expect(streamConsumers.map(({ name }) => name)).toEqual([
      'termination-cascade',
      'did-release',
      'invoice-aggregation',
      'period-close',
    ]);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', streamConsumers.length);
    template.resourceCountIs('AWS::SQS::Queue', streamConsumers.length);
    for (const definition of streamConsumers) {
      const consumer = stack.streamConsumers[definition.name];
      if (!consumer) throw new Error(`${definition.name} was not built`);
      const functionId = stack.getLogicalId(
        consumer.handler.function.node.defaultChild as CfnElement,
      );
      const queueId = stack.getLogicalId(consumer.deadLetterQueue.node.defaultChild as CfnElement);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionId },
        FilterCriteria: {
          Filters: definition.filterPatterns.map((pattern) => ({
            Pattern: JSON.stringify(pattern),
          })),
        },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
        MaximumBatchingWindowInSeconds: definition.maxBatchingWindowSeconds ?? Match.absent(),
      });
      const variables = Object.values(
        template.findResources('AWS::Lambda::Function', {
          Properties: { Description: `Stream consumer ${definition.name}` },
        }),
      )[0]?.Properties.Environment.Variables;
      expect(Object.hasOwn(variables, 'DIDWW_API_KEY')).toBe(definition.callsDidProviders === true);
      // The operator's re-drive command takes the queue's URL from the stack's outputs.
      expect(
        Object.values(template.findOutputs('*', { Value: { Ref: queueId } })).map(
          (output) => output.Description,
        ),
      ).toEqual([expect.stringContaining(`--consumer ${definition.name}`)]);
    }
  });
});

describe('operations', () => {
  it('routes every alarm to one encrypted SNS topic, subscribing the address given in context', () => {
    const topicId = stateless.getLogicalId(
      stateless.operations.topic.node.defaultChild as CfnElement,
    );
    statelessTemplate.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.anyValue(),
    });
    const alarms = Object.values(statelessTemplate.findResources('AWS::CloudWatch::Alarm'));
    // API 5xx and latency, Lambda errors, throttles and duration, table read and write
    // throttles, and per consumer its iterator age and its dead letters.
    expect(alarms).toHaveLength(7 + 2 * testConsumers.length);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    const metrics = alarms.map((alarm) => alarm.Properties.MetricName);
    expect(metrics).toEqual(
      expect.arrayContaining([
        '5xx',
        'Latency',
        'Errors',
        'Throttles',
        'Duration',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
        'IteratorAge',
        'ApproximateNumberOfMessagesVisible',
      ]),
    );
    statelessTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = Template.fromStack(buildApp({ alarmEmail: 'ops@example.com' }).stateless);
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('traces every function with X-Ray and has one dashboard', () => {
    const functions = Object.values(statelessTemplate.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const definition of functions) {
      expect(definition.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    statelessTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('checks', () => {
  it('has no cdk-nag AwsSolutions error left unacknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(app);

    const errors = report.violations
      .filter((violation) => violation.severity === 'error')
      .map(
        (violation) =>
          `${violation.ruleName} at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(errors).toEqual([]);
  });

  it('has no CDK error or warning annotations', () => {
    for (const stack of [stateful, stateless]) {
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    }
  });
});
