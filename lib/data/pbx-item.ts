import * as z from 'zod';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { customerKey, entityTypes, type PbxKind, pbxItemKey, pbxSortPrefix } from './keys.js';
import { queryItems } from './table.js';

/**
 * An extension or a hunt group (§6), stored once under its owner (`pbxItemKey`):
 * a branch reads its main office's beside its own, nothing is copied. A hunt group
 * names each member with the member's owner; an extension counts the hunt groups
 * using it (`usedBy`).
 */
export const pbxItemSchema = z.object({
  number: z.string(),
  name: z.string(),
  ownerId: z.string(),
  accountNumber: z.string().nullable().optional(),
  strategy: z.enum(['simultaneous', 'sequential', 'round_robin', 'least_used']).optional(),
  members: z.array(z.object({ number: z.string(), ownerId: z.string() })).optional(),
  usedBy: z.number().optional(),
});
export type PbxItem = z.infer<typeof pbxItemSchema>;

const pbxEntity = (kind: PbxKind) =>
  defineEntity({
    type: entityTypes[kind],
    schema: pbxItemSchema,
    keyOf: (item) => pbxItemKey(item.ownerId, kind, item.number),
  });

/** The two kinds share one schema; each has its own sort-key prefix and entityType. */
export const pbxItems: Readonly<Record<PbxKind, ReturnType<typeof pbxEntity>>> = {
  extension: pbxEntity('extension'),
  huntGroup: pbxEntity('huntGroup'),
};

/** Strongly consistent read of one item of an owner; undefined when absent. */
export const readPbxItem = (
  db: Db,
  ownerId: string,
  kind: PbxKind,
  number: string,
): Promise<PbxItem | undefined> => pbxItems[kind].get(db, pbxItemKey(ownerId, kind, number));

/**
 * Up to `limit` of an owner's items of one kind in numeric order (their sort keys),
 * from just after the sort key `after` when given.
 */
export async function queryPbxItems(
  db: Db,
  ownerId: string,
  kind: PbxKind,
  page: { readonly limit: number; readonly after?: string },
): Promise<PbxItem[]> {
  const prefix = pbxSortPrefix(kind);
  const { items } = await queryItems(db, {
    key: {
      partition: ['pk', customerKey(ownerId).pk],
      sort:
        page.after === undefined
          ? { attribute: 'sk', beginsWith: prefix }
          : { attribute: 'sk', between: [`${page.after}\u0000`, `${prefix}\uffff`] },
    },
    limit: page.limit,
  });
  return items.map(pbxItems[kind].parse);
}
