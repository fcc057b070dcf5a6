import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { signLocalToken } from '../../infra/local/jwt.js';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime.js';

interface Call {
  readonly command: string;
  readonly start: number;
  end: number;
  /** Items the engine read to answer a Query or Scan (its ScannedCount). */
  scanned?: number;
}

/**
 * Records the DynamoDB requests a client sends, with their timing, so a benchmark can
 * tell requests (each one round trip) from sequential round trips: requests that
 * overlap in time (sent in parallel) count as one step of latency.
 */
const counters = new WeakMap<DynamoDBDocumentClient, ReturnType<typeof attachCounter>>();

export function countRoundTrips(client: DynamoDBDocumentClient) {
  const existing = counters.get(client);
  if (existing) return existing;
  const counter = attachCounter(client);
  counters.set(client, counter);
  return counter;
}

function attachCounter(client: DynamoDBDocumentClient) {
  let calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const call: Call = { command: String(context.commandName), start: performance.now(), end: 0 };
      calls.push(call);
      try {
        const result = await next(args);
        const output = result.output as { ScannedCount?: number };
        if (typeof output.ScannedCount === 'number') call.scanned = output.ScannedCount;
        return result;
      } finally {
        call.end = performance.now();
      }
    },
    { step: 'initialize', name: 'roundTripCounter' },
  );
  return {
    reset: () => {
      calls = [];
    },
    get commands() {
      return calls.map((call) => call.command.replace(/Command$/, ''));
    },
    /** Items read by the Queries and Scans since the last reset. */
    get scanned() {
      return calls.reduce((sum, call) => sum + (call.scanned ?? 0), 0);
    },
    /** Sequential steps: a request that starts after every earlier one ended begins a new step. */
    get sequential() {
      let steps = 0;
      let stepEnd = Number.NEGATIVE_INFINITY;
      for (const call of [...calls].sort((a, b) => a.start - b.start)) {
        if (call.start >= stepEnd) steps += 1;
        stepEnd = Math.max(call.start >= stepEnd ? call.end : stepEnd, call.end);
      }
      return steps;
    },
  };
}

export type RoundTripCounter = ReturnType<typeof countRoundTrips>;

/** Runs one request and reports its round trips beside the minimum its semantics allow. */
export async function measureRoundTrips(
  counter: RoundTripCounter,
  operation: string,
  minimum: number,
  act: () => Promise<{ status: number }>,
) {
  counter.reset();
  const { status } = await act();
  return {
    operation,
    status,
    sequential: counter.sequential,
    requests: counter.commands.length,
    minimum,
    ratio: (counter.sequential / minimum).toFixed(2),
    commands: counter.commands.join(' '),
  };
}

export interface BenchRuntime {
  readonly runtime: LocalRuntime;
  readonly adminToken: string;
  readonly jwtSecret: string;
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
    jwtSecret,
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
