import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { customerKey } from '../../../lib/data/keys.js';
import type { TestApi } from './local-api.js';

export interface CreatedCustomer {
  readonly id: string;
  readonly name: string;
  readonly resellerId: string | null;
  readonly currency: string;
}

export async function createCustomer(
  api: TestApi,
  token: string,
  overrides: Record<string, unknown> = {},
): Promise<CreatedCustomer> {
  const answer = await api.request('POST', '/customers', {
    token,
    body: { name: 'Acme Telecom', businessModel: 'universal', currency: 'EUR', ...overrides },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

export async function patchPanel(
  api: TestApi,
  token: string,
  id: string,
  body: unknown,
  headers = {},
) {
  return api.request('PATCH', `/customers/${id}/additional-info`, { token, body, headers });
}

export async function readPanel(api: TestApi, token: string, id: string) {
  const answer = await api.request('GET', `/customers/${id}/additional-info`, { token });
  expect(answer.status).toBe(200);
  return { panel: answer.body, etag: answer.headers.get('etag') };
}

/** An HQ (main office with the hierarchy enabled) ready to take branches. */
export async function createMainOffice(
  api: TestApi,
  token: string,
  overrides: Record<string, unknown> = {},
) {
  const customer = await createCustomer(api, token, overrides);
  const answer = await patchPanel(api, token, customer.id, {
    officeHierarchy: { enabled: true, office: 'main' },
  });
  expect(answer.status).toBe(200);
  return customer;
}

export async function linkBranch(
  api: TestApi,
  token: string,
  branchId: string,
  mainOfficeId: string,
) {
  return patchPanel(api, token, branchId, {
    officeHierarchy: { enabled: true, office: 'branch', mainOfficeId },
  });
}

/** Termination is [cascade]'s route; tests of other rules put the record in that state directly. */
export async function markTerminated(api: TestApi, id: string): Promise<void> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }),
  );
  await db.send(
    new UpdateCommand({
      TableName: api.runtime.tableName,
      Key: customerKey(id),
      UpdateExpression:
        'SET #status = :terminated, #version = #version + :one REMOVE mainOfficeAllPk, mainOfficeResellerPk',
      ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
      ExpressionAttributeValues: { ':terminated': 'terminated', ':one': 1 },
    }),
  );
  db.destroy();
}

/** A main office under consolidated invoicing with a branch of each name, linked in order. */
export async function createConsolidatedGroup(
  api: TestApi,
  hqName: string,
  branchNames: readonly string[],
): Promise<{ hq: CreatedCustomer; branches: CreatedCustomer[] }> {
  const token = api.tokens.admin;
  const hq = await createMainOffice(api, token, { name: hqName });
  const consolidated = await patchPanel(api, token, hq.id, {
    officeHierarchy: { invoicing: 'consolidated' },
  });
  expect(consolidated.status).toBe(200);
  const branches: CreatedCustomer[] = [];
  for (const name of branchNames) {
    const branch = await createCustomer(api, token, { name });
    expect((await linkBranch(api, token, branch.id, hq.id)).status).toBe(200);
    branches.push(branch);
  }
  return { hq, branches };
}
