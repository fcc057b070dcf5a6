import type { PhoneLine } from '../../data/phone-line.js';
import type { Alias, SystemConfig } from '../../schemas/phone-lines.js';

/** An alias's own policy; an alias stored without one (from before policies) follows the system. */
export const ownPolicy = (line: PhoneLine): Alias['authentication'] =>
  line.authentication ?? 'system';

/**
 * The policy an alias has in effect (§7): its own, or for `system` the system
 * configuration's, resolved when evaluated so a change of the configuration reaches
 * every `system` alias at once. A terminated customer's lines may not register.
 */
export function effectivePolicy(line: PhoneLine, config: SystemConfig): Alias['effective'] {
  const authentication = ownPolicy(line);
  const policy =
    authentication === 'system'
      ? { canRegister: config.aliasAuthentication === 'enabled', source: 'system' as const }
      : { canRegister: authentication === 'enabled', source: 'alias' as const };
  return line.customerStatus === 'terminated' ? { ...policy, canRegister: false } : policy;
}
