import { readFile, rm } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import { customerKey } from '../../lib/data/keys.js';
import { resumeCascade } from '../../lib/domain/termination/redrive.js';
import { sharedServiceContext } from '../../lib/service-context.js';
import { terminationCascadeConsumer } from '../../lib/streams/termination-cascade.js';
import { seedHierarchy } from '../fixtures/seed.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

const deadLetterFile = `.local/termination-failures-${process.pid}.jsonl`;
let api: TestApi;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  await rm(deadLetterFile, { force: true });
  // Few retries, so the poison record reaches the dead-letter queue quickly.
  api = await startTestApi({
    consumers: [{ ...terminationCascadeConsumer, retryAttempts: 2 }],
    deadLetterFile,
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }));
});
afterAll(async () => {
  db?.destroy();
  await api?.stop();
  await rm(deadLetterFile, { force: true });
});

async function statuses(ids: readonly string[]): Promise<string[]> {
  const { Responses } = await db.send(
    new BatchGetCommand({
      RequestItems: {
        [api.runtime.tableName]: { Keys: ids.map(customerKey), ConsistentRead: true },
      },
    }),
  );
  return (Responses?.[api.runtime.tableName] ?? []).map((item) => String(item.status));
}

describe('a cascade record that keeps failing', () => {
  it('goes to the dead-letter queue without blocking the records behind it', async () => {
    const poisoned = await seedHierarchy(db, api.runtime.tableName, 5);
    const healthy = await seedHierarchy(db, api.runtime.tableName, 5);
    const poisonedBranches = new Set<string>(poisoned.branchIds.map((id) => customerKey(id).pk));
    const remove = injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'UpdateItemCommand' &&
        poisonedBranches.has(String(input.Key?.pk?.S ?? input.Key?.pk)),
      always: true,
    });
    try {
      for (const hq of [poisoned.mainOfficeId, healthy.mainOfficeId]) {
        const answer = await api.request('POST', `/customers/${hq}/terminate`, {
          token: api.tokens.admin,
        });
        expect(answer.status).toBe(200);
      }
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(await statuses(healthy.branchIds)).toEqual(Array(5).fill('terminated'));
    expect(await statuses(poisoned.branchIds)).toEqual(Array(5).fill('active'));
    const entries = (await readFile(deadLetterFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const poisonRecords = entries.flatMap((entry) => entry.records);
    expect(poisonRecords.map((record: any) => record.dynamodb.NewImage.mainOfficeId?.S)).toContain(
      poisoned.mainOfficeId,
    );
    expect(entries.every((entry) => entry.reason === 'RetryAttemptsExhausted')).toBe(true);

    // Once the fault is gone, the operator's re-drive finishes the job.
    const job = await resumeCascade(sharedServiceContext(), poisoned.mainOfficeId);
    expect(job).toMatchObject({ status: 'running' });
    await api.runtime.streamsIdle();
    expect(await statuses(poisoned.branchIds)).toEqual(Array(5).fill('terminated'));
    expect(await resumeCascade(sharedServiceContext(), healthy.branchIds[0] ?? '')).toBe(
      'no_cascade',
    );
  });
});
