import type { StreamConsumerDefinition } from './consumer-definition.js';
import { didReleaseConsumer } from './did-release.js';
import { terminationCascadeConsumer } from './termination-cascade.js';

/**
 * The table's stream consumers; CDK and the local runtime pick each one up from
 * here. Invoice aggregation (§9) joins with its issue.
 */
export const streamConsumers: readonly StreamConsumerDefinition[] = [
  terminationCascadeConsumer,
  didReleaseConsumer,
];
