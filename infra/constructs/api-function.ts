import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { tableDefinition } from '../../lib/data/table-definition.js';
import { functionTimeoutSeconds, type RouteDefinition } from '../../lib/http/route.js';
import { lambdaBundle } from './bundling.js';
import { didProviderEnvironment } from './did-providers.js';

/** Entries in the routes table and the consumer definitions are relative to this root. */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

const serviceName = 'customer-additional-info';

const readActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
const writeActions = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/**
 * Table data access without the `<table>/index/*` wildcard of CDK's own grants
 * (cdk-nag IAM5): the item actions on the table, and Query on each index by the
 * name the table definition gives it, which is the only way the code reads an index.
 */
export function grantTableData(
  table: ITableV2,
  grantee: IGrantable,
  access: 'read' | 'readWrite',
): void {
  Grant.addToPrincipal({
    grantee,
    actions: access === 'read' ? readActions : [...readActions, ...writeActions],
    resourceArns: [table.tableArn],
  });
  Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:Query'],
    resourceArns: tableDefinition.globalIndexes.map(
      (index) => `${table.tableArn}/index/${index.name}`,
    ),
  });
}

export interface ServiceFunctionProps {
  /** Handler module relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly table: ITableV2;
  readonly timeout: Duration;
  readonly description: string;
  /** More environment beside the table's name and the logger's settings. */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * A Lambda function with the project's defaults: Node.js 22 on arm64, a minified ESM
 * bundle that carries its own AWS SDK, source-mapped stack traces, its own log group
 * with a retention, and a role that may write to that log group and nothing else
 * until the caller grants more.
 */
export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);

    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    // An own role instead of AWSLambdaBasicExecutionRole, whose log permissions span
    // every log group of the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: `${repositoryRoot}${props.entry}`,
      projectRoot: repositoryRoot,
      depsLockFilePath: `${repositoryRoot}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      // X-Ray traces each invocation and its AWS SDK calls (Powertools reads the trace id into the logs).
      tracing: Tracing.ACTIVE,
      environment: {
        TABLE_NAME: props.table.tableName,
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: lambdaBundle.target,
        mainFields: [...lambdaBundle.mainFields],
        banner: lambdaBundle.banner,
        minify: lambdaBundle.minify,
        sourceMap: true,
        // Stack traces need only the mappings, not a copy of every source file.
        sourcesContent: false,
        // Bundle the AWS SDK v3 too: the version is the one tested, not the runtime's.
        externalModules: [],
      },
    });
    // Active tracing grants xray:PutTraceSegments and PutTelemetryRecords, which take no resource.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace uploads accept no resource-level permission; the grant holds only those two actions.',
    });
  }
}

export interface ApiFunctionProps {
  readonly route: RouteDefinition;
  readonly table: ITableV2;
}

/**
 * The function behind one row of the routes table, with the table access its method
 * needs: none for public routes (health, the OpenAPI document), read for GET, read and
 * write for the rest (idempotency records included, as they live in the same table).
 */
export class ApiFunction extends ServiceFunction {
  constructor(scope: Construct, id: string, { route, table }: ApiFunctionProps) {
    super(scope, id, {
      entry: route.entry,
      table,
      timeout: Duration.seconds(functionTimeoutSeconds(route)),
      description: `${route.method} ${route.path}`,
      environment: route.callsDidProviders ? didProviderEnvironment(scope) : undefined,
    });

    if (route.auth === 'public') return;
    grantTableData(table, this.function, route.method === 'GET' ? 'read' : 'readWrite');
  }
}
