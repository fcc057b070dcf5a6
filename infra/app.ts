import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routeList } from '../lib/http/routes.js';
import { streamConsumers } from '../lib/streams/consumers.js';
import { StatefulStack } from './stacks/stateful-stack.js';
import { StatelessStack } from './stacks/stateless-stack.js';

// Environment-agnostic stacks: synth needs no credentials, no network and no lookups.
const app = new App();

const stateful = new StatefulStack(app, 'CustomerAdditionalInfoStateful', {
  description: 'Customer Additional info: the DynamoDB table (retained, deletion-protected)',
});
new StatelessStack(app, 'CustomerAdditionalInfoStateless', {
  description: 'Customer Additional info: HTTP API, its functions and the stream consumers',
  table: stateful.table,
  routes: routeList,
  streamConsumers,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
