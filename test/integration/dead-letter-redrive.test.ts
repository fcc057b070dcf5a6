import { readFile, rm } from 'node:fs/promises';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamHandler } from '../../infra/local/stream-poller.js';
import { redriveFile } from '../../infra/ops/dead-letters.js';
import { charges } from '../../lib/data/charge.js';
import { createDocumentClient } from '../../lib/data/client.js';
import { customerItem } from '../../lib/data/customer.js';
import { invoiceAggregationConsumer } from '../../lib/streams/invoice-aggregation.js';
import { customer } from '../fixtures/customer-records.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * The dead-letter re-drive (`npm run dead-letters:redrive`) on the local runtime's
 * dead-letter file: a charge whose customer did not exist is given up on by the
 * real consumer; once the customer exists, the re-drive counts it, once.
 */
const deadLetterFile = `.local/redrive-${process.pid}.jsonl`;
let api: TestApi;
let handler: StreamHandler;

beforeAll(async () => {
  await rm(deadLetterFile, { force: true });
  api = await startTestApi({
    consumers: [{ ...invoiceAggregationConsumer, retryAttempts: 1 }],
    deadLetterFile,
  });
  ({ handler } = (await import('../../functions/streams/invoice-aggregation.js')) as {
    handler: StreamHandler;
  });
});
afterAll(async () => {
  await api?.stop();
  await rm(deadLetterFile, { force: true });
});

const customerId = 'redrive-latecomer';
const db = () => ({
  client: createDocumentClient(api.runtime.dynamodbEndpoint),
  tableName: api.runtime.tableName,
});
const put = (item: Record<string, unknown>) =>
  db().client.send(new PutCommand({ TableName: db().tableName, Item: item }));
const entries = async () =>
  (await readFile(deadLetterFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { consumer: string });
const invoice = () =>
  api.request('GET', `/customers/${customerId}/invoices/2026-11`, { token: api.tokens.admin });

describe('re-driving a dead-letter file', () => {
  it('keeps what still fails, then counts it once the cause is fixed, exactly once', async () => {
    await put(
      charges.toItem({
        id: 'redrive-charge',
        customerId,
        amount: '12.345',
        currency: 'EUR',
        kind: 'usage',
        description: 'Before its customer',
        occurredAt: '2026-11-20T12:00:00.000Z',
        period: null,
      }),
    );
    await api.runtime.streamsIdle();
    expect(await entries()).toHaveLength(1);

    const stillMissing = await redriveFile(deadLetterFile, invoiceAggregationConsumer, handler);
    expect(stillMissing).toEqual([{ handled: 0, failure: expect.any(String) }]);
    expect(await entries()).toHaveLength(1);

    await put(customerItem(customer(customerId, { resellerId: null, currency: 'EUR' })));
    expect(await redriveFile(deadLetterFile, invoiceAggregationConsumer, handler)).toEqual([
      { handled: 1 },
    ]);
    expect(await entries()).toEqual([]);
    expect((await invoice()).body).toMatchObject({ total: '12.345', chargeCount: 1 });

    // Nothing left to re-drive, and the charge already counted is not counted again.
    expect(await redriveFile(deadLetterFile, invoiceAggregationConsumer, handler)).toEqual([]);
    await api.runtime.streamsIdle();
    expect((await invoice()).body).toMatchObject({ total: '12.345', chargeCount: 1 });
  });
});
