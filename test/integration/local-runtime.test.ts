import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLocalToken } from '../../infra/local/jwt.js';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.js';
import { recording, recordingConsumer } from '../fixtures/recording-consumer.js';

const tsx = 'node_modules/.bin/tsx';

describe('the runtime wires stream consumers to the table', () => {
  let runtime: LocalRuntime;
  const jwtSecret = randomBytes(16).toString('hex');

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      port: 0,
      tableName: `runtime-${randomBytes(3).toString('hex')}`,
      jwtSecret,
      deadLetterFile: `.local/runtime-test-dead-letter-${process.pid}.jsonl`,
      consumers: [
        {
          ...recordingConsumer,
          filterPatterns: [{ dynamodb: { NewImage: { entityType: { S: ['customer'] } } } }],
        },
      ],
    });
  });
  afterAll(() => runtime?.stop());

  it('delivers the customer written through the API to the consumer, filtered by its definition', async () => {
    recording.reset();
    const token = await signLocalToken(jwtSecret, { role: 'admin' });
    const response = await fetch(`${runtime.url}/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'stream-test' },
      body: JSON.stringify({ name: 'Streamed', businessModel: 'universal', currency: 'EUR' }),
    });
    const customer = (await response.json()) as { id: string };
    await runtime.streamsIdle();
    const records = recording.invocations.flat();
    // The idempotency record's writes are on the stream too, but the filter keeps them out.
    expect(records.map((record) => [record.eventName, record.dynamodb?.NewImage?.id?.S])).toEqual([
      ['INSERT', customer.id],
    ]);
  });
});

describe('the local engine', () => {
  it('keeps the stream flowing after a cancelled transaction, without its rolled-back writes', async () => {
    const { DynamoDBClient, TransactionCanceledException } = await import(
      '@aws-sdk/client-dynamodb'
    );
    const { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } = await import(
      '@aws-sdk/lib-dynamodb'
    );
    const { startLocalRuntime } = await import('../../infra/local/runtime.js');
    const tableName = `rollback-${randomBytes(3).toString('hex')}`;
    const local = await startLocalRuntime({
      port: 0,
      tableName,
      jwtSecret: 'x',
      deadLetterFile: `.local/rollback-dead-letter-${process.pid}.jsonl`,
      consumers: [recordingConsumer],
    });
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: local.dynamodbEndpoint }),
    );
    try {
      recording.reset();
      const put = (label: string) => ({
        TableName: tableName,
        Item: { pk: label, sk: label, label },
      });
      await db.send(new PutCommand(put('before')));
      await expect(
        db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: put('rolled-back') },
              {
                ConditionCheck: {
                  TableName: tableName,
                  Key: { pk: 'before', sk: 'before' },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        ),
      ).rejects.toBeInstanceOf(TransactionCanceledException);
      await db.send(new PutCommand(put('after')));
      await local.streamsIdle();
      expect(recording.processed).toEqual(['before', 'after']);
    } finally {
      db.destroy();
      await local.stop();
    }
  });
});

async function startProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  // The in-process runtime above set these for its handlers; a fresh `npm start` has none.
  const { DYNAMODB_ENDPOINT: _endpoint, TABLE_NAME: _table, ...inherited } = process.env;
  const child = spawn(tsx, ['infra/local/start.ts'], {
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

describe('npm start', () => {
  it('prints the URL and an admin token that works, and SIGTERM stops the engine too', async () => {
    const { child, output } = await startProcess({ LOCAL_JWT_SECRET: 'start-test-secret' });
    const deadline = Date.now() + 45_000;
    while (!/Admin token \S+/.test(output()) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /API\s+(\S+)/.exec(output())?.[1];
    const engine = /DynamoDB\s+(\S+)/.exec(output())?.[1];
    const token = /Admin token (\S+)/.exec(output())?.[1];
    expect(url && engine && token).toBeTruthy();
    const listed = await fetch(`${url}/customers`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    await expect(fetch(`${engine}/moto-api/`)).rejects.toThrow();
  });

  it('says in one line what to install when moto is missing', async () => {
    const { child, output } = await startProcess({ PYTHON: '/nonexistent/python3' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output().trim()).toMatch(
      /^\S+ was not found: install Python 3 and run: pip install 'moto\[server\]'/,
    );
    expect(output().trim().split('\n')).toHaveLength(1);
  });
});
