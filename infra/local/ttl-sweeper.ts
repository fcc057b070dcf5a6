import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../lib/data/table-definition.js';

/**
 * DynamoDB's Time to Live for the local engine, which has none: items whose TTL
 * attribute (epoch seconds) is in the past are deleted, each on condition that it is
 * still expired, so the stream carries their REMOVE records as DynamoDB's own TTL
 * deletes do (which happens some time after expiry, usually within a day or two). The
 * cloud never runs this; it exists so that what an expiry sets off (the repair of a
 * DID order whose request died) runs locally too.
 */
export async function deleteExpiredItems(
  endpoint: string,
  tableName: string,
  now: Date = new Date(),
): Promise<number> {
  const client = new DynamoDBClient({ endpoint });
  const attribute = tableDefinition.timeToLiveAttribute;
  const nowSeconds = String(Math.floor(now.getTime() / 1000));
  let deleted = 0;
  let startKey: Record<string, never> | undefined;
  try {
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: '#ttl < :now',
          ProjectionExpression: '#pk, #sk',
          ExpressionAttributeNames: {
            '#ttl': attribute,
            '#pk': tableDefinition.partitionKey,
            '#sk': tableDefinition.sortKey,
          },
          ExpressionAttributeValues: { ':now': { N: nowSeconds } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const key of page.Items ?? []) {
        try {
          await client.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: key,
              ConditionExpression: '#ttl < :now',
              ExpressionAttributeNames: { '#ttl': attribute },
              ExpressionAttributeValues: { ':now': { N: nowSeconds } },
            }),
          );
          deleted += 1;
        } catch (error) {
          // Rewritten with a later expiry since the scan: not expired any more.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
      startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (startKey);
  } finally {
    client.destroy();
  }
  return deleted;
}
