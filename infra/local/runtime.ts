import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { routeList } from '../../lib/http/routes.js';
import type { StreamConsumerDefinition } from '../../lib/streams/consumer-definition.js';
import { streamConsumers } from '../../lib/streams/consumers.js';
import type { DidwwStandIn } from './didww-stand-in.js';
import { createTable, type Engine, startMoto, useLocalCredentials } from './engine.js';
import { type ApiLambdaHandler, createLocalApiServer } from './http-server.js';
import { verifyLocalToken } from './jwt.js';
import { fileDeadLetter, type StreamPoller, startStreamPoller } from './stream-poller.js';
import { deleteExpiredItems } from './ttl-sweeper.js';

export interface LocalRuntimeOptions {
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  readonly host?: string;
  readonly tableName: string;
  readonly jwtSecret: string;
  /** An engine that is already running; when absent, moto is started and owned by the runtime. */
  readonly dynamodbEndpoint?: string;
  readonly consumers?: readonly StreamConsumerDefinition[];
  readonly deadLetterFile?: string;
  readonly onError?: (error: unknown) => void;
  /**
   * The DIDWW API the handlers call (DIDWW_API_URL and DIDWW_API_KEY); when absent, the
   * runtime starts its DIDWW stand-in and points the handlers at it.
   */
  readonly didww?: { readonly url: string; readonly apiKey: string };
  /** How often expired items are deleted, as DynamoDB's TTL would; 0 (the default): only on `deleteExpiredItems()`. */
  readonly ttlSweepMillis?: number;
}

export interface LocalRuntime {
  readonly url: string;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  /** The DIDWW stand-in the runtime started, or undefined when it was given a DIDWW API. */
  readonly didwwStandIn: DidwwStandIn | undefined;
  /** Resolves once every stream record written so far has been handled by every consumer. */
  streamsIdle(): Promise<void>;
  /** Deletes the items expired at `now` (default: the clock), as DynamoDB's TTL does; answers how many. */
  deleteExpiredItems(now?: Date): Promise<number>;
  stop(): Promise<void>;
}

const repoRoot = new URL('../../', import.meta.url);

type StreamLambdaHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

async function loadExport<T>(entry: string): Promise<T> {
  const module = (await import(new URL(entry, repoRoot).href)) as { handler?: T };
  if (!module.handler) throw new Error(`${entry} does not export a handler`);
  return module.handler;
}

/**
 * The whole system on one machine: engine, table, HTTP API and one stream poller
 * per consumer, all running the same handlers the Lambdas run.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  useLocalCredentials();
  const engine: Engine | undefined = options.dynamodbEndpoint ? undefined : await startMoto();
  const endpoint = options.dynamodbEndpoint ?? (engine as Engine).endpoint;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopPart of stops.reverse()) await stopPart();
    await engine?.stop();
  };
  try {
    await createTable(endpoint, options.tableName);
    // Handlers read their configuration from the environment, as in Lambda.
    process.env.TABLE_NAME = options.tableName;
    process.env.DYNAMODB_ENDPOINT = endpoint;
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    // Loaded only when needed: a runtime pointed at DIDWW itself never starts it.
    const didwwStandIn = options.didww
      ? undefined
      : await (await import('./didww-stand-in.js')).startDidwwStandIn();
    if (didwwStandIn) stops.push(() => didwwStandIn.stop());
    const didww = options.didww ?? (didwwStandIn as DidwwStandIn);
    process.env.DIDWW_API_URL = didww.url;
    process.env.DIDWW_API_KEY = didww.apiKey;

    const handlers = new Map<string, ApiLambdaHandler>();
    for (const route of routeList)
      handlers.set(route.operationId, await loadExport<ApiLambdaHandler>(route.entry));
    const api = createLocalApiServer({
      routes: routeList,
      handlers,
      authorize: (authorization) => verifyLocalToken(options.jwtSecret, authorization),
      onError: options.onError,
    });
    await listen(api.server, options.port, options.host ?? '127.0.0.1');
    stops.push(() => api.close());

    const pollers: StreamPoller[] = [];
    const deadLetter = fileDeadLetter(options.deadLetterFile ?? '.local/dead-letter.jsonl');
    for (const consumer of options.consumers ?? streamConsumers) {
      const poller = await startStreamPoller({
        endpoint,
        tableName: options.tableName,
        consumer,
        handler: await loadExport<StreamLambdaHandler>(consumer.entry),
        deadLetter,
      });
      pollers.push(poller);
      stops.push(() => poller.stop());
    }
    const expire = (now?: Date) => deleteExpiredItems(endpoint, options.tableName, now);
    if (options.ttlSweepMillis) {
      const sweeper = setInterval(() => {
        expire().catch((error: unknown) => options.onError?.(error));
      }, options.ttlSweepMillis);
      stops.push(async () => clearInterval(sweeper));
    }
    const address = api.server.address() as AddressInfo;
    return {
      url: `http://${address.address}:${address.port}`,
      dynamodbEndpoint: endpoint,
      tableName: options.tableName,
      didwwStandIn,
      deleteExpiredItems: expire,
      // A consumer may write records for another; idle means a round in which none worked.
      streamsIdle: async () => {
        const settled = () => pollers.reduce((sum, poller) => sum + poller.batchesSettled, 0);
        let before: number;
        do {
          before = settled();
          await Promise.all(pollers.map((poller) => poller.idle()));
        } while (settled() !== before);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const listen = (server: Server, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
