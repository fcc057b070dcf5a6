import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RouteDefinition } from '../../lib/http/route.js';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { ApiFunction } from '../constructs/api-function.js';
import { MonthlyClose } from '../constructs/monthly-close.js';
import { Operations } from '../constructs/operations.js';
import { StreamConsumer } from '../constructs/stream-consumer.js';

export interface StatelessStackProps extends StackProps {
  readonly table: ITableV2;
  /** The routes table: one function and one API route per row. */
  readonly routes: readonly RouteDefinition[];
  readonly streamConsumers: readonly StreamConsumerDefinition[];
}

/**
 * Steady-state limits of the API stage: they keep one runaway client from exhausting
 * the account's Lambda concurrency; raise them with real traffic.
 */
const stageThrottle = { rateLimit: 200, burstLimit: 400 };

/** HTTP API access-log variables, one JSON object per request. */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

/**
 * Reads the token issuer and audience from CDK context. cdk.json holds placeholders
 * (an issuer under the reserved .invalid domain, so a deployment with them accepts no
 * token at all); a real deployment passes its identity provider's values with
 * `cdk deploy -c jwtIssuer=https://... -c jwtAudience=aud1,aud2`.
 */
function jwtSettingsFromContext(scope: Construct): { issuer: string; audience: string[] } {
  const issuer: unknown = scope.node.tryGetContext('jwtIssuer');
  const audience: unknown = scope.node.tryGetContext('jwtAudience');
  if (typeof issuer !== 'string' || !issuer.startsWith('https://')) {
    throw new Error('Context jwtIssuer must be the https:// URL of the token issuer');
  }
  // -c on the command line gives a comma-separated string, cdk.json may give an array.
  const audienceList = typeof audience === 'string' ? audience.split(',') : audience;
  if (
    !Array.isArray(audienceList) ||
    audienceList.length === 0 ||
    !audienceList.every((entry) => typeof entry === 'string' && entry.trim() !== '')
  ) {
    throw new Error('Context jwtAudience must name at least one audience');
  }
  return { issuer, audience: audienceList.map((entry: string) => entry.trim()) };
}

const pascalCase = (name: string): string =>
  name.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_match, _separator, letter: string) =>
    letter.toUpperCase(),
  );

/**
 * Everything that can be replaced at will: the HTTP API with one function per route, and
 * the table's stream consumers.
 */
export class StatelessStack extends Stack {
  readonly api: HttpApi;
  /** Keyed by the route's operationId. */
  readonly apiFunctions: Readonly<Record<string, ApiFunction>>;
  /** Keyed by the consumer's name. */
  readonly streamConsumers: Readonly<Record<string, StreamConsumer>>;
  readonly monthlyClose: MonthlyClose;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { table } = props;

    const jwt = jwtSettingsFromContext(this);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', jwt.issuer, {
      jwtAudience: jwt.audience,
    });

    // The default stage is declared below, with access logs and throttling.
    this.api = new HttpApi(this, 'Api', { createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH });
    const stage = new HttpStage(this, 'ApiDefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: stageThrottle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: accessLogFormat,
      },
    });

    const apiFunctions: Record<string, ApiFunction> = {};
    for (const route of props.routes) {
      const name = pascalCase(route.operationId);
      const apiFunction = new ApiFunction(this, name, { route, table });
      apiFunctions[route.operationId] = apiFunction;
      const isPublic = route.auth === 'public';
      const httpRoute = new HttpRoute(this, `${name}Route`, {
        httpApi: this.api,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: new HttpLambdaIntegration(`${name}Integration`, apiFunction.function),
        authorizer: isPublic ? undefined : authorizer,
      });
      if (isPublic) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by contract (§10): it takes no token.`,
        });
      }
    }
    this.apiFunctions = apiFunctions;

    const consumers: Record<string, StreamConsumer> = {};
    for (const definition of props.streamConsumers) {
      consumers[definition.name] = new StreamConsumer(this, pascalCase(definition.name), {
        definition,
        table,
      });
    }
    this.streamConsumers = consumers;
    this.monthlyClose = new MonthlyClose(this, 'MonthlyClose', { table });
    this.operations = new Operations(this, 'Operations', {
      api: this.api,
      table,
      streamConsumers: consumers,
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the project pins for its functions, scripts and tests alike ' +
        '(README, Deploying with CDK); it moves to a newer major as one change.',
    });

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'Base URL of the HTTP API' });
  }
}
