import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client.js';

type Key = { readonly pk: string; readonly sk: string };

/** How batchGetItems names an item in its answer. */
export const itemId = (key: Key): string => `${key.pk}|${key.sk}`;

/**
 * Strongly consistent reads of up to 100 items in one round trip; the items come
 * back keyed by `itemId`. Unprocessed keys appear only under throttling, after the
 * SDK's own retries, and are asked for again.
 */
export async function batchGetItems(
  db: Db,
  keys: readonly Key[],
): Promise<Map<string, Record<string, unknown>>> {
  const items = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = [
    ...new Map(keys.map((key) => [itemId(key), key])).values(),
  ];
  while (pending.length > 0) {
    const { Responses, UnprocessedKeys } = await db.client.send(
      new BatchGetCommand({
        RequestItems: { [db.tableName]: { Keys: pending, ConsistentRead: true } },
      }),
    );
    for (const item of Responses?.[db.tableName] ?? []) {
      items.set(itemId({ pk: String(item.pk), sk: String(item.sk) }), item);
    }
    pending = UnprocessedKeys?.[db.tableName]?.Keys ?? [];
  }
  return items;
}
