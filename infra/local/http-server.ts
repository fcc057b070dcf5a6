import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { AppError, notFound, payloadTooLarge, unauthorized } from '../../lib/errors.js';
import { internalErrorResponse, problemResponse } from '../../lib/http/problem.js';
import { functionTimeoutSeconds, type RouteDefinition } from '../../lib/http/route.js';

export type ApiLambdaHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway HTTP APIs refuse payloads over 10 MB before any Lambda runs. */
const gatewayPayloadLimit = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly route: RouteDefinition;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
  readonly handler: ApiLambdaHandler;
}

function compile(route: RouteDefinition, handler: ApiLambdaHandler): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), paramNames, handler };
}

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body =
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  response.writeHead(result.statusCode ?? 200, {
    ...Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
    ),
    ...(body ? { 'content-length': String(body.byteLength) } : {}),
  });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > gatewayPayloadLimit) throw payloadTooLarge(gatewayPayloadLimit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Headers as API Gateway v2 passes them: lower-case names, repeated values joined by commas. */
function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (value) headers[name] = value.join(',');
  }
  return headers;
}

function queryOf(url: URL): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  return Object.keys(query).length > 0 ? query : undefined;
}

export interface LocalApiOptions {
  readonly routes: readonly RouteDefinition[];
  readonly handlers: ReadonlyMap<string, ApiLambdaHandler>;
  /** The JWT authorizer: the claims of a valid Authorization header, or undefined. */
  readonly authorize: (
    authorization: string | undefined,
  ) => Promise<Record<string, unknown> | undefined>;
  readonly onError?: (error: unknown) => void;
}

/**
 * The local stand-in for API Gateway: matches a route, runs the JWT authorizer,
 * builds the same v2 event (claims under requestContext.authorizer.jwt) and
 * calls the same handler the Lambda runs.
 */
export interface LocalApiServer {
  readonly server: Server;
  /** Stops accepting requests and waits for the ones in flight, so none outlives the engine. */
  close(): Promise<void>;
}

export function createLocalApiServer(options: LocalApiOptions): LocalApiServer {
  const compiled = options.routes.map((route) => {
    const handler = options.handlers.get(route.operationId);
    if (!handler) throw new Error(`No handler loaded for ${route.operationId}`);
    return compile(route, handler);
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    // Parsed as an absolute URL: a request target such as '//' is a path, not a host.
    const url = new URL(`http://localhost${request.url ?? '/'}`);
    const method = request.method ?? 'GET';
    let match: { compiled: CompiledRoute; values: string[] } | undefined;
    for (const candidate of compiled) {
      if (candidate.route.method !== method) continue;
      const found = candidate.pattern.exec(url.pathname);
      if (found) {
        match = { compiled: candidate, values: found.slice(1) };
        break;
      }
    }
    if (!match) throw notFound(`No route for ${method} ${url.pathname}.`);
    const { route, handler, paramNames } = match.compiled;
    const headers = headersOf(request);
    let claims: Record<string, unknown> | undefined;
    if (route.auth !== 'public') {
      claims = await options.authorize(headers.authorization);
      if (!claims) throw unauthorized();
    }
    const body = await readBody(request);
    const now = new Date();
    const requestId = randomUUID();
    const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
      version: '2.0',
      routeKey: `${route.method} ${route.path}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: queryOf(url),
      pathParameters:
        paramNames.length > 0
          ? Object.fromEntries(
              paramNames.map((name, index) => [name, decode(match.values[index] ?? '')]),
            )
          : undefined,
      body: body.byteLength > 0 ? body.toString('utf8') : undefined,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'localhost',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: `${route.method} ${route.path}`,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        authorizer: {
          principalId: '',
          integrationLatency: 0,
          jwt: { claims: (claims ?? {}) as Record<string, string>, scopes: [] },
        },
      },
    };
    const deadline = Date.now() + functionTimeoutSeconds(route) * 1000;
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: route.operationId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${route.operationId}`,
      memoryLimitInMB: '1024',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${route.operationId}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    send(response, await handler(event, context));
  };

  const inFlight = new Set<Promise<void>>();
  const server = createServer((request, response) => {
    const handled = handle(request, response)
      .catch((error: unknown) => {
        if (error instanceof AppError) return send(response, problemResponse(error));
        options.onError?.(error);
        send(response, internalErrorResponse());
      })
      .finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  });
  return {
    server,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await closed;
    },
  };
}
