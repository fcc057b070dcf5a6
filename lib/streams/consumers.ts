import type { StreamConsumerDefinition } from './consumer-definition.js';
import { didReleaseConsumer } from './did-release.js';
import { invoiceAggregationConsumer } from './invoice-aggregation.js';
import { periodCloseConsumer } from './period-close.js';
import { terminationCascadeConsumer } from './termination-cascade.js';

/**
 * The table's stream consumers; CDK and the local runtime pick each one up from
 * here.
 */
export const streamConsumers: readonly StreamConsumerDefinition[] = [
  terminationCascadeConsumer,
  didReleaseConsumer,
  invoiceAggregationConsumer,
  periodCloseConsumer,
];
