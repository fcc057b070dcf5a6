import type { StreamConsumerDefinition } from './consumer-definition.js';
import { terminationCascadeConsumer } from './termination-cascade.js';

/**
 * The table's stream consumers; CDK and the local runtime pick each one up from
 * here. DID release and invoice aggregation (§8, §9) join with their issues.
 */
export const streamConsumers: readonly StreamConsumerDefinition[] = [terminationCascadeConsumer];
