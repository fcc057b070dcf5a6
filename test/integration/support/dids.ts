import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { customerKey, didNumberKey } from '../../../lib/data/keys.js';
import { createCustomer, patchPanel } from './customers.js';
import type { TestApi } from './local-api.js';

/** Reads the table directly, to check what a call did or did not write. */
export function tableReader(api: TestApi) {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }),
  );
  const TableName = api.runtime.tableName;
  const partition = async (pk: string, skPrefix: string) => {
    const items: Record<string, any>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': pk, ':sk': skPrefix },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  };
  return {
    /** The number's own item: its batch, status and customer. */
    did: async (number: string) =>
      (
        await db.send(
          new GetCommand({ TableName, Key: didNumberKey(number), ConsistentRead: true }),
        )
      ).Item,
    /** The customer's copies of its numbers. */
    customerDids: (customerId: string) => partition(customerKey(customerId).pk, 'DID#'),
    /** The customer's charges. */
    charges: (customerId: string) => partition(customerKey(customerId).pk, 'CHARGE#'),
    close: () => db.destroy(),
  };
}
export type TableReader = ReturnType<typeof tableReader>;

export const paidPricing = (currency = 'EUR') => ({
  free: false,
  currency,
  activationFee: '1.00',
  recurringFee: '0.50',
  markupPercent: '10',
  roundingDecimals: 2,
});

let named = 0;
let numbered = 0;

/** Numbers no other test of the file uses, in one area of Berlin. */
export const freshNumbers = (count: number, prefix = '+4930') =>
  Array.from({ length: count }, () => `${prefix}${String(7_000_000 + ++numbered)}`);

export const inventoryEntry = (number: string, fields: Record<string, unknown> = {}) => ({
  number,
  kind: 'local',
  country: 'DE',
  area: '30',
  activationCost: '1.50',
  recurringCost: '0.99',
  ...fields,
});

export async function createBatch(
  api: TestApi,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; name: string }> {
  const answer = await api.request('POST', '/did-batches', {
    token: api.tokens.admin,
    body: {
      name: `DID batch ${process.pid} ${++named}`,
      source: 'inventory',
      pricing: paidPricing(),
      ...overrides,
    },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

export async function importInto(api: TestApi, batchId: string, entries: unknown[]) {
  const answer = await api.request('POST', `/did-batches/${batchId}/numbers`, {
    token: api.tokens.admin,
    body: { numbers: entries },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as { added: string[]; rejected: unknown[] };
}

/** A customer with auto-provisioning enabled on the batch. */
export async function provisionedCustomer(
  api: TestApi,
  batchId: string,
  overrides: Record<string, unknown> = {},
) {
  const customer = await createCustomer(api, api.tokens.admin, overrides);
  const enabled = await patchPanel(api, api.tokens.admin, customer.id, {
    didAutoProvisioning: { enabled: true, batchId },
  });
  expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
  return customer;
}

export const assign = (
  api: TestApi,
  customerId: string,
  numbers: unknown,
  options: { token?: string; headers?: Record<string, string> } = {},
) =>
  api.request('POST', `/customers/${customerId}/dids`, {
    token: options.token ?? api.tokens.admin,
    body: { numbers },
    headers: options.headers,
  });

export const offers = (api: TestApi, customerId: string, query: string, token = api.tokens.admin) =>
  api.request('GET', `/customers/${customerId}/did-offers?${query}`, { token });

export const release = (
  api: TestApi,
  customerId: string,
  number: string,
  token = api.tokens.admin,
) =>
  api.request('DELETE', `/customers/${customerId}/dids/${encodeURIComponent(number)}`, { token });

export const listDids = (api: TestApi, customerId: string, token = api.tokens.admin) =>
  api.request('GET', `/customers/${customerId}/dids?limit=100`, { token });
