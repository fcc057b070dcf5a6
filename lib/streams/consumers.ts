import type { StreamConsumerDefinition } from './consumer-definition.js';

/**
 * The table's stream consumers. The termination cascade, DID release and invoice
 * aggregation (SPEC §5, §8, §9) join this list as their issues land; CDK and the
 * local runtime pick each one up from here with no other change.
 */
export const streamConsumers: readonly StreamConsumerDefinition[] = [];
