import { eq, increment, notExists } from '../../data/expressions.js';
import { pbxRegistryKey } from '../../data/keys.js';
import { type NumberRegistry, numberRegistries } from '../../data/number-registry.js';
import type { WriteRequest } from '../../data/table.js';

/** Numbers of the customer that the main office's group already uses, in numeric order. */
export function numberConflictsOnLink(own: NumberRegistry, target: NumberRegistry): string[] {
  const reserved = target.reserved ?? new Set<string>();
  return [...(own.own ?? [])]
    .filter((number) => reserved.has(number))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
}

/** A registry unchanged since it was read: same revision, or still never written. */
const unchangedSince = (registry: NumberRegistry | undefined) =>
  registry?.revision === undefined ? notExists('revision') : eq('revision', registry.revision);

const bumpRevision = { revision: increment(1) };

/**
 * The registry writes of a link change, for the panel's transaction: the customer's
 * own numbers leave the group it leaves and join the group it joins, conditioned on
 * the registries it read (their revision), so a number created meanwhile on either
 * side fails the link (a conflict: the link reads again and re-checks) instead of
 * slipping past the check. A customer that leaves a group becomes the root of its own again.
 */
export function numberMovesOnLink(
  customerId: string,
  registries: { readonly own: NumberRegistry; readonly target?: NumberRegistry },
  link: { readonly from: string | null; readonly to: string | null },
): WriteRequest[] {
  const own = registries.own.own ?? new Set<string>();
  const hasNumbers = own.size > 0;
  // A branch is no group's root; a customer that leaves its group roots its own.
  const rootsOwnGroup = link.to === null && hasNumbers;
  const writes = [
    numberRegistries.update(
      pbxRegistryKey(customerId),
      rootsOwnGroup
        ? { set: { ...bumpRevision, reserved: own } }
        : { set: bumpRevision, remove: ['reserved'] },
      { condition: unchangedSince(registries.own) },
    ),
  ];
  if (link.to !== null && hasNumbers) {
    writes.push(
      numberRegistries.update(
        pbxRegistryKey(link.to),
        { set: bumpRevision, add: { reserved: own } },
        { condition: unchangedSince(registries.target) },
      ),
    );
  }
  if (link.from !== null && hasNumbers) {
    writes.push(
      numberRegistries.update(pbxRegistryKey(link.from), {
        set: bumpRevision,
        delete: { reserved: own },
      }),
    );
  }
  return writes;
}
