import * as z from 'zod';
import { defineEntity, withCustomerIdFromKey } from './entity.js';
import { entityTypes, pbxRegistryKey } from './keys.js';
import { itemId } from './table.js';

/**
 * A customer's PBX number registry (keys.ts, `pbxRegistryKey`): `own` holds its
 * extension and hunt-group numbers; on the root of a group of offices (a main office,
 * or a customer in no hierarchy) `reserved` holds every number in use in the group.
 * Conditional updates of `reserved` keep numbers unique across the group; `revision`
 * changes with every write, so a link can be conditioned on the sets it read. Created
 * by the first update that touches it, so a customer without numbers has none.
 */
const registryFields = z.object({
  customerId: z.string(),
  own: z.set(z.string()).optional(),
  reserved: z.set(z.string()).optional(),
  revision: z.number().optional(),
  /** On a branch: hunt-group members that are its main office's extensions (they block leaving it). */
  inheritedMembers: z.number().optional(),
});
export const numberRegistrySchema = withCustomerIdFromKey(registryFields);
export type NumberRegistry = z.infer<typeof registryFields>;

export const numberRegistries = defineEntity({
  type: entityTypes.pbxRegistry,
  schema: numberRegistrySchema,
  keyOf: (registry) => pbxRegistryKey(registry.customerId),
});

/** The registry as read, or the empty one a customer without numbers has. */
export const registryOf = (
  items: ReadonlyMap<string, Record<string, unknown>>,
  customerId: string,
): NumberRegistry => {
  const item = items.get(itemId(pbxRegistryKey(customerId)));
  return item ? numberRegistries.parse(item) : { customerId };
};
