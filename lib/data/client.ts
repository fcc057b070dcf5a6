import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The table and the client that reaches it: what every data-access function takes. */
export interface Db {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export function createDocumentClient(endpoint?: string): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    ...(endpoint ? { endpoint } : {}),
    // The SDK's own retries absorb throttling; three attempts keep a request well under the API's timeout.
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

let shared: (Db & { readonly endpoint: string | undefined }) | undefined;

/**
 * The Lambda-wide client, created on first use so module import stays cheap.
 * DYNAMODB_ENDPOINT is set only by the local runtime, which may point the same
 * process at a new table (benchmarks do): a changed setting gets a new client.
 */
export function sharedDb(): Db {
  const tableName = process.env.TABLE_NAME;
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  if (shared?.tableName !== tableName || shared.endpoint !== endpoint) {
    shared = { client: createDocumentClient(endpoint), tableName, endpoint };
  }
  return shared;
}
