import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * When a conditional write fails, DynamoDB can return the item as it was
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD), so the caller learns which
 * condition failed without a second read. Returns undefined for other errors.
 */
export function conditionFailure(
  error: unknown,
): { readonly item: Record<string, unknown> | undefined } | undefined {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  return { item: error.Item ? unmarshall(error.Item) : undefined };
}
