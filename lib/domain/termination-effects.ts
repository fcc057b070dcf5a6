import { denyLinesOfTerminatedCustomer } from './phone-lines.js';
import type { TerminationEffect } from './termination.js';

/**
 * What happens to every terminated customer besides its status, branch or not, run by
 * the termination consumer after it checked the current item. Each is idempotent.
 * DID release ([dids]) joins here.
 */
export const terminationEffects: readonly TerminationEffect[] = [denyLinesOfTerminatedCustomer];
