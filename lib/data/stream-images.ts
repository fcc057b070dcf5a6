import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Item } from './table.js';

/** The item as a stream record's change left it; undefined when the change removed it. */
export function newItemOf(record: DynamoDBRecord): Item | undefined {
  const image = record.dynamodb?.NewImage;
  return image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
}

/** The item as it was before the change; undefined when the change created it. */
export function oldItemOf(record: DynamoDBRecord): Item | undefined {
  const image = record.dynamodb?.OldImage;
  return image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
}
