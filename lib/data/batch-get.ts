import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './client.js';

type Key = { readonly pk: string; readonly sk: string };

/**
 * Strongly consistent reads of up to 100 items in one round trip; the items come
 * back keyed by `pk`. Unprocessed keys appear only under throttling, after the SDK's
 * own retries, and are asked for again.
 */
export async function batchGetItems(
  db: Db,
  keys: readonly Key[],
): Promise<Map<string, Record<string, unknown>>> {
  const items = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = [...new Map(keys.map((key) => [key.pk, key])).values()];
  while (pending.length > 0) {
    const { Responses, UnprocessedKeys } = await db.client.send(
      new BatchGetCommand({
        RequestItems: { [db.tableName]: { Keys: pending, ConsistentRead: true } },
      }),
    );
    for (const item of Responses?.[db.tableName] ?? []) items.set(String(item.pk), item);
    pending = UnprocessedKeys?.[db.tableName]?.Keys ?? [];
  }
  return items;
}
