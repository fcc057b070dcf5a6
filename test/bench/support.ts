import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { signLocalToken } from '../../infra/local/jwt.js';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.js';

/** Counts the DynamoDB requests a client sends (each is one round trip), by command name. */
export function countRoundTrips(client: DynamoDBDocumentClient) {
  let calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'roundTripCounter' },
  );
  return {
    reset: () => {
      calls = [];
    },
    get calls() {
      return [...calls];
    },
  };
}

export interface BenchRuntime {
  readonly runtime: LocalRuntime;
  readonly adminToken: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: any; headers: Headers }>;
}

export async function startBenchRuntime(): Promise<BenchRuntime> {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const jwtSecret = randomBytes(24).toString('hex');
  const runtime = await startLocalRuntime({
    port: 0,
    tableName: `bench-${randomBytes(3).toString('hex')}`,
    jwtSecret,
    deadLetterFile: '.local/bench-dead-letter.jsonl',
  });
  const adminToken = await signLocalToken(jwtSecret, { role: 'admin' });
  return {
    runtime,
    adminToken,
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${runtime.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text ? JSON.parse(text) : undefined,
        headers: response.headers,
      };
    },
  };
}
