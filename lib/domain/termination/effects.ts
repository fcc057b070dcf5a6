import type { CustomerRecord } from '../../data/customer.js';
import type { ServiceContext } from '../../service-context.js';
import { denyLinesOfTerminatedCustomer } from '../phone-lines/terminated-customer-lines.js';

/**
 * Something else that happens to every terminated customer, whether terminated by
 * request or by its main office. Each must be idempotent: a stream record can be
 * delivered more than once.
 */
export type TerminationEffect = (ctx: ServiceContext, customer: CustomerRecord) => Promise<void>;

/**
 * What happens to every terminated customer besides its status, branch or not, run by
 * the termination consumer after it checked the current item. DID release runs as its
 * own consumer (lib/streams/did-release.ts), so a provider outage never holds this up.
 */
export const terminationEffects: readonly TerminationEffect[] = [denyLinesOfTerminatedCustomer];
